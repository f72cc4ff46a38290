/**
 * Validation against the official SARIF 2.1.0 JSON schema, as shipped by
 * Microsoft's @microsoft/jest-sarif (the OASIS schema, rtm.5, draft-04).
 */
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';

const schemaPath = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');

let validate: (((data: unknown) => boolean) & { errors?: unknown }) | undefined;

export function validateSarif(log: unknown): { valid: boolean; errors: string } {
  if (!validate) {
    const ajv = new Ajv04({
      allErrors: true,
      strict: false, // the schema's language pattern is not valid with the u flag
      unicodeRegExp: false,
    });
    addFormats(ajv);
    validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  }
  const valid = validate(log);
  return { valid, errors: valid ? '' : JSON.stringify(validate.errors, null, 2) };
}
