// For the test fixtures that run as child processes (test/*/fixtures/*.mjs): stop once, when the
// parent closes our stdin (it ended us, or died) or sends SIGTERM, then exit 0.
export function stopWhenParentLets(stop) {
  let stopping = false;
  const once = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(0);
  };
  process.stdin.on('end', once);
  process.stdin.resume();
  process.on('SIGTERM', once);
}
