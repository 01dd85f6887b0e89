// Preloaded (node --import) into `ka-top watch` by watch-exit.test.ts: an uncaught exception 300 ms after the
// ready line, so the test sees the crash path take the tracer down too. ka-top itself has no test hook.
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  if (String(chunk).includes('watching (')) {
    setTimeout(() => {
      throw new Error('test crash');
    }, 300);
  }
  return write(chunk, ...rest);
};
