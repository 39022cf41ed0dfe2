// What the CLI's bundle (dist/runsc.cjs) may hold. Every runsc invocation
// (Docker and containerd make several per container) compiles it, so the
// Sentry stays out: kernel, file systems, netstack, seccomp and the platform
// are the sandbox process's (dist/sentry.cjs). The Gofer client is the one
// part of the Sentry's tree runsc uses itself (it starts the Gofers and
// checks that they answer).

/** ALLOWED_SENTRY are the modules under dist/sentry/ the CLI may include. */
const ALLOWED_SENTRY = [/^sentry\/fsimpl\/gofer\/(client|gofer_fs)\.js$/, /^sentry\/fsimpl\/hostfs\/host_fs\.js$/];

/** FORBIDDEN are the trees the CLI must not include at all. */
const FORBIDDEN = [/^netstack\//, /^seccomp\//, /^platform\/(?!ptrace\/native\.js$)/];

/** cliViolations returns the modules of inputs (an esbuild metafile's input
 *  paths, relative to the repository) that the CLI bundle must not hold. */
export function cliViolations(inputs: readonly string[]): string[] {
  return inputs.filter((p) => {
    const m = /^dist\/(.*)$/.exec(p);
    if (!m) return false;
    const rel = m[1];
    if (rel.startsWith('sentry/')) return !ALLOWED_SENTRY.some((r) => r.test(rel));
    return FORBIDDEN.some((r) => r.test(rel));
  });
}
