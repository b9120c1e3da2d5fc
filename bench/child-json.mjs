// A Node child process whose output (or its last line) is its JSON result.
import { spawn } from 'node:child_process';

/**
 * Runs `node ...args` (`node`: this process's runtime unless given; stdin: `input` when given, stderr inherited) and resolves with the JSON it
 * prints: its whole output, else its last line (after lines of its own); rejects, naming `what`,
 * when it exits with another code than 0.
 */
export function jsonFromChild(what, args, { cwd, env, input, node = process.execPath } = {}) {
  const child = spawn(node, args, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
  if (input !== undefined) child.stdin.end(input);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${what} exited with ${code}`));
      try {
        resolve(parseOutput(out));
      } catch (err) {
        reject(new Error(`${what} printed no JSON result: ${err.message}`));
      }
    });
  });
}

/** The whole output as JSON, else its last line. */
function parseOutput(out) {
  const text = out.trim();
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.split('\n').at(-1));
  }
}
