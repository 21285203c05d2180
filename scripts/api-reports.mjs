// The API report of every library (api/<name>.api.md, made by API Extractor from the
// built .d.ts): `--check` fails when a public surface differs from its committed report (npm
// test), `--update` rewrites the reports (npm run api:update). Run after `npm run build`.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const update = process.argv.includes('--update');
if (!update && !process.argv.includes('--check')) {
  process.stderr.write('usage: node scripts/api-reports.mjs --check | --update\n');
  process.exit(2);
}
const failed = [];
for (const lib of readdirSync('libs').sort()) {
  const configFile = join('libs', lib, 'api-extractor.json');
  if (!existsSync(configFile)) continue;
  const result = Extractor.invoke(ExtractorConfig.loadFileAndPrepare(configFile), {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback: (m) => {
      // "You have changed the public API signature ...": reported below, once per package.
      if (m.messageId === 'console-api-report-changed') m.handled = true;
    },
  });
  if (!result.succeeded || (!update && result.apiReportChanged)) failed.push(lib);
}
if (failed.length > 0) {
  process.stderr.write(
    `API reports differ or failed for: ${failed.join(', ')}.\n` +
      'Review the change (diff api/ against dist/api-report/) and, if it is meant, ' +
      'run `npm run api:update` and commit the reports.\n',
  );
  process.exit(1);
}
