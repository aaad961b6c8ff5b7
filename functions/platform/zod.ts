// English messages for the issues zod writes itself (every schema here names its own where it matters).
// Schema modules use zod/mini, the tree-shakable build of zod 4 (~20 KB in a bundle where classic zod costs
// ~440 KB), and import this module for its side effect. They import `* as z from 'zod/mini'` themselves:
// re-exporting that namespace from here would keep all of it (every locale) in every bundle.

import { en } from 'zod/locales';
import * as z from 'zod/mini';

z.config(en());

/** Field errors as the API returns them: `{ field: [messages] }`, problems with the whole body under `(body)`. */
export function fieldErrorsOf(error: z.core.$ZodError): Record<string, string[]> {
  const { formErrors, fieldErrors } = z.flattenError(error);
  const fields = Object.fromEntries(
    Object.entries(fieldErrors).filter((e): e is [string, string[]] => Array.isArray(e[1])),
  );
  return formErrors.length ? { '(body)': formErrors, ...fields } : fields;
}
