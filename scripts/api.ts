/**
 * The public API of every entry point in package.json `exports`, kept under review.
 *
 *   npm run api        compiles the declarations, updates docs/api/report/<entry>.api.md (one
 *                      API report per entry point) and regenerates docs/api/reference/ (markdown
 *                      pages from the doc comments)
 *   npm run api:check  fails, naming each report, when an entry point's public API differs from
 *                      its committed report
 *
 * API Extractor analyses one entry point per run, so it is driven here once per subpath, with the
 * entry and the report name set per run. Work files go to temp/api/ (not committed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
  type IConfigFile,
} from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const temp = join(root, 'temp', 'api');
const declarations = join(temp, 'dts');
const reportFolder = join(root, 'docs', 'api', 'report');
const referenceFolder = join(root, 'docs', 'api', 'reference');

const check = process.argv.includes('--check');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, { types: string }>;
};

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`api: \`${relative(root, command)} ${args.join(' ')}\` failed.`);
    process.exit(1);
  }
}

/** `.` → tfjs-sam, `./data` → tfjs-sam-data: the report's file name and the doc model's package. */
function reportName(subpath: string): string {
  return subpath === '.'
    ? manifest.name
    : `${manifest.name}-${subpath.slice(2).replace(/\//g, '-')}`;
}

const silent = { logLevel: ExtractorLogLevel.None, addToApiReportFile: false };
// API Extractor's own messages about the report file are replaced by the summary below.
const quiet = new Set([
  'console-api-report-not-copied',
  'console-api-report-copied',
  'console-api-report-created',
  'console-compiler-version-notice',
  'console-preamble',
]);

rmSync(declarations, { recursive: true, force: true });
run(process.execPath, [
  join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  '-p',
  join(root, 'tsconfig.build.json'),
  '--emitDeclarationOnly',
  '--declarationMap',
  'false',
  '--outDir',
  declarations,
]);
mkdirSync(reportFolder, { recursive: true });

/** The reference page of an entry point says how to import it (the doc model's package comment). */
function describePackage(name: string, specifier: string): void {
  const file = join(temp, 'model', `${name}.api.json`);
  const model = JSON.parse(readFileSync(file, 'utf8')) as { docComment: string };
  model.docComment = `/**\n * Import from \`${specifier}\`.\n *\n * @packageDocumentation\n */\n`;
  writeFileSync(file, `${JSON.stringify(model, null, 2)}\n`);
}

const changed: string[] = [];
let failed = false;
for (const [subpath, entry] of Object.entries(manifest.exports)) {
  const name = reportName(subpath);
  const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
  const entryPoint = join(declarations, relative('dist', entry.types));
  const configObject: IConfigFile = {
    projectFolder: root,
    mainEntryPointFilePath: entryPoint,
    compiler: { tsconfigFilePath: join(root, 'tsconfig.json') },
    apiReport: {
      enabled: true,
      reportFileName: name,
      reportFolder,
      reportTempFolder: join(temp, 'report'),
    },
    docModel: { enabled: true, apiJsonFilePath: join(temp, 'model', `${name}.api.json`) },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    newlineKind: 'lf',
    messages: {
      compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning },
        // Nothing here is tagged @public/@beta: every export of an entry point is public.
        'ae-missing-release-tag': silent,
        // A type the API uses but no entry point exports: noted in the report, where it is reviewed.
        'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
        // Undocumented items are marked "(undocumented)" in the report; one line each here is noise.
        'ae-undocumented': silent,
      },
      // The doc comments are prose for people, not strict TSDoc.
      tsdocMessageReporting: { default: silent },
    },
  };
  const config = ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: undefined,
    packageJsonFullPath: join(root, 'package.json'),
    packageJson: { ...manifest, name, version: '0.0.0' },
  });
  const result = Extractor.invoke(config, {
    localBuild: !check,
    messageCallback: (message: ExtractorMessage) => {
      if (quiet.has(message.messageId)) message.handled = true;
    },
  });
  const report = relative(root, join(reportFolder, `${name}.api.md`));
  if (!check) describePackage(name, specifier);
  if (result.errorCount > 0) {
    console.error(`api: ${specifier}: API Extractor reported ${result.errorCount} error(s) above.`);
    failed = true;
  }
  if (result.apiReportChanged) {
    changed.push(report);
    if (check) {
      const fresh = join(temp, 'report', `${name}.api.md`);
      console.error(`\napi: the public API of ${specifier} differs from ${report}:`);
      if (existsSync(join(root, report))) {
        spawnSync(
          'git',
          ['--no-pager', 'diff', '--no-index', '--', report, relative(root, fresh)],
          {
            cwd: root,
            stdio: 'inherit',
          },
        );
      } else {
        console.error(`  ${report} does not exist.`);
      }
    } else {
      console.log(`api: updated ${report}`);
    }
  }
}

// A report whose entry point left package.json `exports` describes nothing any more.
const expected = new Set(
  Object.keys(manifest.exports).map((subpath) => `${reportName(subpath)}.api.md`),
);
for (const file of readdirSync(reportFolder).filter((name) => !expected.has(name))) {
  const report = relative(root, join(reportFolder, file));
  if (check) {
    console.error(`\napi: ${report} belongs to no entry point in package.json \`exports\`.`);
    changed.push(report);
  } else {
    rmSync(join(reportFolder, file));
    console.log(`api: removed ${report} (no such entry point)`);
  }
}

if (check) {
  if (changed.length > 0) {
    console.error(
      `\napi:check failed: ${changed.join(', ')} ${changed.length === 1 ? 'differs' : 'differ'} ` +
        'from the public API. If the change is intended, run `npm run api` and commit the updated ' +
        'report(s) and docs/api/reference/; otherwise restore the exports.',
    );
    process.exit(1);
  }
  if (failed) process.exit(1);
  console.log(
    `api:check: the public API of all ${Object.keys(manifest.exports).length} entry points matches docs/api/report/.`,
  );
} else {
  if (failed) process.exit(1);
  run(process.execPath, [
    join(root, 'node_modules', '@microsoft', 'api-documenter', 'bin', 'api-documenter'),
    'markdown',
    '--input-folder',
    join(temp, 'model'),
    '--output-folder',
    referenceFolder,
  ]);
  console.log(
    `api: reports in ${relative(root, reportFolder)}/, reference in ${relative(root, referenceFolder)}/`,
  );
}
