// JSON Schema validation of ka-top's published schemas (draft 2020-12).
import Ajv2020 from 'ajv/dist/2020.js';
import { loadSchema } from './cli.js';

export async function schemaValidator(name: string): Promise<(doc: unknown) => string[]> {
  // `format` annotations are documentation here (ajv-formats is not a dependency); required-in-allOf patterns are
  // legitimate in the events schema, so only those two strict checks are relaxed.
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, strictRequired: false, strictTypes: false, validateFormats: false });
  // The schemas reference each other (snapshot events are events.schema.json's records).
  for (const other of ['events.schema.json', 'snapshot.schema.json']) if (other !== name) ajv.addSchema(await loadSchema(other));
  const validate = ajv.compile(await loadSchema(name));
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath} ${e.message}`));
}
