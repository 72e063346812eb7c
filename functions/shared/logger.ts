// Structured JSON logs, one object per line, each carrying the request id when there is one.
// Callers pass fields explicitly: request bodies and headers are never logged (they can hold secrets).

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type Level = Exclude<keyof typeof LEVELS, 'silent'>;
type Fields = Record<string, unknown>;

let sink: (line: string) => void = (line) => process.stdout.write(line + '\n');
/** Tests capture every line the suite produces through this. */
export const setLogSink = (next: (line: string) => void): void => {
  sink = next;
};

const taps = new Set<(line: string) => void>();
/** An observer of every line written, whatever the sink (the test suite's secrets scan). Returns its removal. */
export const tapLogs = (tap: (line: string) => void): (() => void) => {
  taps.add(tap);
  return () => void taps.delete(tap);
};

const threshold = (): number => LEVELS[(process.env.LOG_LEVEL ?? 'info') as keyof typeof LEVELS] ?? LEVELS.info;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export function createLogger(base: Fields = {}): Logger {
  const write = (level: Level) => (msg: string, fields: Fields = {}) => {
    if (LEVELS[level] < threshold()) return;
    const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...base, ...fields });
    for (const tap of taps) tap(line);
    sink(line);
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}

export const logger = createLogger({ service: 'sluice' });
