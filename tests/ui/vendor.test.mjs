// vendor.test.mjs - the vendored uPlot (webui/vendor/) is the pinned npm release, byte for byte.
//
// The version pinned in package.json must be the lockfile's; `npm pack uplot@VERSION` fetches
// the release tarball (from npm's cache when npm ci already has it), whose sha512 must equal the
// lockfile's integrity; then every vendored file must have the same sha256 as the tarball's file,
// as node_modules' copy and as the sum written in webui/vendor/README.md.
import { readFileSync, mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, check, eq, ok, notOk, sh, HERE, ROOT, diag } from './lib.mjs';

const FILES = [['uPlot.esm.js', 'dist/uPlot.esm.js'], ['uPlot.min.css', 'dist/uPlot.min.css'], ['LICENSE', 'LICENSE']];
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

run(async () => {
    const pkg = JSON.parse(readFileSync(path.join(HERE, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(path.join(HERE, 'package-lock.json'), 'utf8'));
    const version = pkg.dependencies.uplot;
    check('uplot is pinned to an exact version', /^\d+\.\d+\.\d+$/.test(version), version);
    for (const [name, v] of Object.entries(pkg.dependencies)) check(`${name} pinned exactly (${v})`, /^\d+\.\d+\.\d+$/.test(v));
    const entry = lock.packages['node_modules/uplot'];
    eq('lockfile holds the pinned uplot', entry && entry.version, version);
    const readme = readFileSync(path.join(ROOT, 'webui/vendor/README.md'), 'utf8');
    check('webui/vendor/README.md names the version', readme.includes(`**${version}**`));

    const tmp = mkdtempSync(path.join(tmpdir(), 'berth-vendor.'));
    try {
        let tarDir = null;
        try {
            const out = await sh('npm', ['pack', `uplot@${version}`, '--pack-destination', tmp, '--silent'], { cwd: HERE });
            const tgz = path.join(tmp, out.trim().split('\n').pop());
            const integrity = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
            eq('the release tarball matches the lockfile integrity', integrity, entry.integrity);
            await sh('tar', ['-xzf', tgz, '-C', tmp]);
            tarDir = path.join(tmp, 'package');
            ok(`npm pack uplot@${version}`);
        } catch (e) {
            notOk(`npm pack uplot@${version} (the release tarball)`, String(e).slice(0, 500));
        }
        for (const [vend, inPkg] of FILES) {
            const mine = sha256(readFileSync(path.join(ROOT, 'webui/vendor', vend)));
            if (tarDir) eq(`webui/vendor/${vend} equals the tarball's ${inPkg}`, mine, sha256(readFileSync(path.join(tarDir, inPkg))));
            eq(`webui/vendor/${vend} equals node_modules/uplot/${inPkg}`, mine, sha256(readFileSync(path.join(HERE, 'node_modules/uplot', inPkg))));
            check(`webui/vendor/README.md lists the sha256 of ${vend}`, readme.includes(`${mine}  ${vend}`));
        }
        const extra = readdirSync(path.join(ROOT, 'webui/vendor')).filter((f) => f !== 'README.md' && !FILES.some((x) => x[0] === f));
        check('webui/vendor holds nothing else', extra.length === 0, extra.join(' '));
    } finally {
        rmSync(tmp, { recursive: true, force: true });
    }
    diag(`uplot ${version}`);
});
