/** A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
export function createProgress(total: number, label: string) {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const start = performance.now();
  let lastDecile = -1;
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  return {
    /** Report that `done` of `total` items are finished. */
    update(done: number) {
      const fraction = total ? done / total : 1;
      const rate = done / Math.max(1e-3, (performance.now() - start) / 1000);
      const eta = rate > 0 && done < total ? `, ${Math.ceil((total - done) / rate)} s left` : "";
      const text = `${label} ${done}/${total} (${rate.toFixed(0)}/s${eta})`;
      if (tty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${text}`);
      } else if (Math.floor(fraction * 10) > lastDecile) {
        lastDecile = Math.floor(fraction * 10);
        write(`${text}\n`);
      }
    },
    /** End the bar's line. */
    done() {
      if (tty) write("\n");
    },
  };
}
