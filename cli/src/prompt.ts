// Asking on the terminal: a password is read in raw mode and never echoed. When stdin is not a
// terminal (a pipe in CI or a test), answers are its lines, in order.
import { CliError } from './errors.js';
import type { Prompts } from './cognito.js';

type Input = NodeJS.ReadStream;

let piped: string[] | undefined;

async function pipedLine(input: Input): Promise<string> {
  if (!piped) {
    let text = '';
    input.setEncoding('utf8');
    for await (const chunk of input) text += chunk as string;
    piped = text.split(/\r?\n/);
  }
  return piped.shift() ?? '';
}

function rawRead(input: Input, output: NodeJS.WritableStream, label: string, echo: boolean): Promise<string> {
  output.write(label);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: Buffer | string) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || (ch === '\u0004' && value === '')) return done();
        if (ch === '\u0003') return done(new CliError('canceled'));
        if (ch === '\u007f' || ch === '\b') {
          if (value.length > 0 && echo) output.write('\b \b');
          value = [...value].slice(0, -1).join('');
        } else if (ch >= ' ') {
          value += ch;
          if (echo) output.write(ch);
        }
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

export function terminalPrompts(input: Input = process.stdin, output: NodeJS.WritableStream = process.stderr): Prompts {
  const ask = (label: string, echo: boolean) => {
    if (input.isTTY) return rawRead(input, output, label, echo);
    // The label still says what is read (the answer itself is never written back).
    output.write(label + '\n');
    return pipedLine(input);
  };
  return { password: (label) => ask(label, false), line: (label) => ask(label, true) };
}
