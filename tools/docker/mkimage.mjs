#!/usr/bin/env node
// Builds the busybox test image without any registry: a root file system
// (busybox-static and its applet links, /etc/passwd with root and user 1000,
// /tmp, /data) as a layer, and around it an OCI image layout tarball
// (oci-layout, index.json, manifest, config, layer blobs) that
// `ctr images import` and `docker load` accept.
//
//   node tools/docker/mkimage.mjs OUTDIR [NAME:TAG]
// writes OUTDIR/rootfs.tar (for `docker import`) and OUTDIR/image.tar (OCI).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const [out, ref = 'docker.io/local/busybox:latest'] = process.argv.slice(2);
if (!out) {
  console.error('usage: mkimage.mjs OUTDIR [NAME:TAG]');
  process.exit(2);
}
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
if (!busybox) {
  console.error('mkimage: busybox is not installed (apt-get install busybox-static)');
  process.exit(1);
}
const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
};
fs.mkdirSync(out, { recursive: true });
const root = fs.mkdtempSync(path.join(out, 'rootfs-'));
for (const d of ['bin', 'etc', 'tmp', 'data', 'proc', 'sys', 'dev', 'root', 'home/user']) fs.mkdirSync(path.join(root, d), { recursive: true });
fs.chmodSync(path.join(root, 'tmp'), 0o1777);
fs.copyFileSync(busybox, path.join(root, 'bin/busybox'));
fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a));
fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nuser:x:1000:\n');
const layer = path.join(out, 'rootfs.tar');
sh('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', layer, '.']);
fs.rmSync(root, { recursive: true, force: true });

// The OCI layout: blobs by sha256, an index naming the manifest.
const lay = fs.mkdtempSync(path.join(out, 'oci-'));
const blobs = path.join(lay, 'blobs', 'sha256');
fs.mkdirSync(blobs, { recursive: true });
const put = (buf) => {
  const d = crypto.createHash('sha256').update(buf).digest('hex');
  fs.writeFileSync(path.join(blobs, d), buf);
  return { digest: `sha256:${d}`, size: buf.length };
};
const layerBuf = fs.readFileSync(layer);
const l = put(layerBuf);
const config = {
  architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'], WorkingDir: '/' },
  rootfs: { type: 'layers', diff_ids: [l.digest] },
  history: [{ created: '2026-01-01T00:00:00Z', created_by: 'tools/docker/mkimage.mjs' }],
};
const c = put(Buffer.from(JSON.stringify(config)));
const manifest = {
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l }],
};
const m = put(Buffer.from(JSON.stringify(manifest)));
fs.writeFileSync(path.join(lay, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
fs.writeFileSync(path.join(lay, 'index.json'), JSON.stringify({
  schemaVersion: 2,
  manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m,
    annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.split(':').pop() } }],
}));
sh('tar', ['-C', lay, '-cf', path.join(out, 'image.tar'), '.']);
fs.rmSync(lay, { recursive: true, force: true });
console.log(`${out}/rootfs.tar ${out}/image.tar (${ref})`);
