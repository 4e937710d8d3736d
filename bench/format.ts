/** Number formatting shared by the Markdown report and the target verdicts. */
export const MiB = 1024 * 1024;

export const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
export const times = (n: number | null) => (n === null ? 'n/a' : `${n.toLocaleString('en-US')}×`);
export const bytes = (n: number) => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
export const num = (n: number) => Math.round(n).toLocaleString('en-US');
