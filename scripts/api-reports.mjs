// The API report of every entry point of every library (api/<name>.api.md, made by API Extractor
// from the built .d.ts; one config per entry: libs/<lib>/api-extractor.json for the package root,
// api-extractor.<subpath>.json for a subpath export): `--check` fails when a public surface
// differs from its committed report or API Extractor warns (a public signature naming a type the
// entry does not export, say), `--update` rewrites the reports (npm run api:update). Run after
// `npm run build`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const update = process.argv.includes('--update');
if (!update && !process.argv.includes('--check')) {
  process.stderr.write('usage: node scripts/api-reports.mjs --check | --update\n');
  process.exit(2);
}
const failed = [];
const configs = readdirSync('libs', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
  .flatMap((lib) =>
    readdirSync(join('libs', lib))
      .filter((f) => /^api-extractor(\.[a-z-]+)?\.json$/.test(f))
      .sort()
      .map((f) => ({
        lib: f === 'api-extractor.json' ? lib : `${lib} (${f})`,
        file: join('libs', lib, f),
      })),
  );
for (const { lib, file: configFile } of configs) {
  const result = Extractor.invoke(ExtractorConfig.loadFileAndPrepare(configFile), {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback: (m) => {
      // "You have changed the public API signature ...": reported below, once per package.
      if (m.messageId === 'console-api-report-changed') m.handled = true;
    },
  });
  const warned = result.errorCount + result.warningCount > 0;
  if (!result.succeeded || warned || (!update && result.apiReportChanged)) failed.push(lib);
}
if (failed.length > 0) {
  process.stderr.write(
    `API reports differ, warned or failed for: ${failed.join(', ')}.\n` +
      'Review the change (diff api/ against dist/api-report/) and, if it is meant, ' +
      'run `npm run api:update` and commit the reports.\n',
  );
  process.exit(1);
}
