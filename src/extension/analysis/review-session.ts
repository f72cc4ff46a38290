/**
 * An editor engine as the patch layer's review session (src/patch/review.ts
 * `AnalysisSession`), used the way that layer intends: the engine reports
 * findings down to low confidence and the review applies the user's threshold
 * after classification (`minConfidence`). Filtering inside the engine instead
 * would make a finding whose confidence merely drops in the post-image read as
 * fixed. `editFile` lets a series reviewed against a base tree reparse only
 * what each patch changed.
 */
import type { AnalysisSession } from '../../patch/review';
import type { EngineApi } from './engine-api';

/** `dispose` is left to the caller: the extension keeps a review's engines for simulation from its post-images. */
export function reviewSession(engine: EngineApi): AnalysisSession {
  return {
    setFile: (path, text) => engine.setFile(path, text),
    editFile: (path, replacements) => engine.editFile(path, replacements),
    removeFile: (path) => engine.removeFile(path),
    analyze: () => engine.analyze({ minConfidence: 'low' }),
    dispose: () => undefined,
  };
}
