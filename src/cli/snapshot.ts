// Placeholder until the snapshot command lands (keeps the build green for parallel work).
export async function snapshotCommand(_argv: string[]): Promise<number> {
  process.stderr.write('ka-top: snapshot is not built yet\n');
  return 1;
}
