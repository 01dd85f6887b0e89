// Placeholder until the doctor command lands (keeps the build green for parallel work).
export async function doctorCommand(_argv: string[]): Promise<number> {
  process.stderr.write('ka-top: doctor is not built yet\n');
  return 1;
}
