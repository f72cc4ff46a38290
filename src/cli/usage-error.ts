/**
 * A usage or input problem the user can fix: the CLI prints its message and
 * exits 2. Anything else thrown is a bug and is printed with its stack.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
/** A bug in the tool (an exception), never a verdict on the input. */
export const EXIT_INTERNAL = 3;

/** Writes to a stream and resolves once the data is flushed (large JSON on a pipe). */
export function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => {
      // A reader that went away (`| head`) is not an error of ours.
      if (err && (err as NodeJS.ErrnoException).code !== 'EPIPE') reject(err);
      else resolve();
    });
  });
}
