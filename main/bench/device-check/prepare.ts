/**
 * `npm run device-check -- --prepare`: packs what a bare GPU machine needs to run the device check into .device/
 * (ignored by git) and prints the `run` command line and the carry list. That machine has no Node.js and at most
 * 64 MiB travel with the repository, so Node (stripped) and onnxruntime-node's Linux x64 libraries (CPU + WebGPU;
 * the 229 MB CUDA provider does not fit) go xz-compressed, with the two reference fixtures. The Vulkan loader
 * that WebGPU needs comes as Debian packages in .gl/, as the device README says.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LIMIT = 64 * 2 ** 20;
const FIXTURE_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'reference.json'];

const UNPACK = `#!/bin/sh
# Unpacks what --prepare packed: sh .device/unpack.sh DEST REPO
set -e
here=$(dirname "$0"); dest=$1; repo=$2
unxz() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}
mkdir -p "$dest/node_modules" "$dest/fixtures"
unxz "$here/node.xz" > "$dest/node"; chmod +x "$dest/node"
unxz "$here/node_modules.tar.xz" | tar -C "$dest/node_modules" -xf -
unxz "$here/fixtures.tar.xz" | tar -C "$dest/fixtures" -xf -
for f in "$dest"/fixtures/*/; do cp "$repo/resources/tokenizer/t5/spiece.model" "$f"; done
cp "$here/device-check.js" "$dest/"
`;

function sh(command: string, cwd: string): void {
  execFileSync('sh', ['-c', command], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

function sizeOf(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

/** Bytes of the files git would send: tracked plus untracked-not-ignored. */
function treeBytes(root: string): number {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root })
    .toString()
    .split('\0')
    .filter(Boolean);
  return files.reduce((n, f) => n + (existsSync(join(root, f)) ? statSync(join(root, f)).size : 0), 0);
}

export function prepare(root: string): void {
  const out = join(root, '.device');
  const say = (m: string) => process.stderr.write(`prepare: ${m}\n`);
  const bundle = join(root, 'out/device-check.js');
  if (!existsSync(bundle)) throw new Error('out/device-check.js is missing: run `npm run build` first');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  copyFileSync(bundle, join(out, 'device-check.js'));
  writeFileSync(join(out, 'unpack.sh'), UNPACK);

  say('node (stripped, xz)');
  copyFileSync(process.execPath, join(out, 'node'));
  spawnSync('strip', [join(out, 'node')]);
  sh('xz -T0 -9 node', out);

  say('onnxruntime-node, Linux x64 (xz)');
  const bin = `onnxruntime-node/bin/napi-v6/linux/x64`;
  sh(
    `tar -C "${join(root, 'node_modules')}" -cf - onnxruntime-node/package.json onnxruntime-node/dist` +
      ` ${bin}/libonnxruntime.so.1 ${bin}/onnxruntime_binding.node` +
      ` onnxruntime-common | xz -T0 -9 > "${join(out, 'node_modules.tar.xz')}"`,
    root,
  );

  say('reference fixtures (xz)');
  const fixtures = join(root, '../shared/fixtures');
  const names = ['tiny-t5-v1_0', 'tiny-t5-v1_1'].flatMap((m) =>
    FIXTURE_FILES.filter((f) => existsSync(join(fixtures, m, f))).map((f) => `${m}/${f}`),
  );
  sh(`tar -C "${fixtures}" -cf - ${names.join(' ')} | xz -T0 -9 > "${join(out, 'fixtures.tar.xz')}"`, root);

  const gl = join(root, '.gl');
  if (!existsSync(gl)) {
    say('the Vulkan loader as Debian packages in .gl/ (apt-get download)');
    mkdirSync(gl);
    const o = '-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64';
    const got = spawnSync(
      'sh',
      ['-c', `mkdir -p /tmp/amd64/partial && apt-get ${o} update >/dev/null && apt-get ${o} download libvulkan1`],
      { cwd: gl, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (got.status !== 0) say('apt-get could not fetch libvulkan1: WebGPU will find no Vulkan loader unless the machine has one');
  }

  const sizes = { device: sizeOf(out), gl: existsSync(gl) ? sizeOf(gl) : 0, tree: treeBytes(root) };
  const total = sizes.device + sizes.gl + sizes.tree;
  const command = [
    'set -o pipefail',
    'for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig',
    '[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
    'sh .device/unpack.sh /tmp/sprout "$PWD"',
    '/tmp/sprout/node /tmp/sprout/device-check.js --repo "$PWD" --fixtures /tmp/sprout/fixtures' +
      ' --out "$OUT/device-check.json" 2>&1 | tee "$OUT/device-check.log"',
  ].join('; ');
  const report = { command, carry: ['.device', '.gl'], timeout_s: 540, bytes: { ...sizes, total, limit: LIMIT }, fits: total <= LIMIT };
  if (!report.fits) say(`${(total / 2 ** 20).toFixed(1)} MiB would travel, over the 64 MiB limit`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
