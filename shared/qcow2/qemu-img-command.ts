// The `qemu-img create` command line equivalent to a create request: the options as the user gave them
// (qemu-img's underscore spellings, in our canonical order), so that a patched qemu-img of the targeted
// revision runs the same validation, prints the same clamp messages and writes the same image.
import { CREATE_OPTION_NAMES, type CreateInput } from './create-options';

/** Quote one word for a POSIX shell: bare when it is plainly safe, else single-quoted. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** qemu's option syntax doubles commas inside values. */
function optValue(v: string): string {
  return v.replace(/,/g, ',,');
}

/** argv of the equivalent command (without shell quoting), e.g. for spawning qemu-img. */
export function qemuImgCreateArgs(input: CreateInput, file: string): string[] {
  const pairs: string[] = [];
  for (const name of CREATE_OPTION_NAMES) {
    const v = input.options[name];
    if (v !== undefined) pairs.push(`${name}=${optValue(v)}`);
  }
  const args = ['create', '-f', 'qcow2'];
  if (pairs.length) args.push('-o', pairs.join(','));
  args.push(file);
  if (input.size !== undefined) args.push(input.size);
  return args;
}

/** One shell-quoted line: `qemu-img create -f qcow2 -o k=v,… FILE [SIZE]`. */
export function qemuImgCreateCommand(input: CreateInput, file: string): string {
  return ['qemu-img', ...qemuImgCreateArgs(input, file)].map(shellQuote).join(' ');
}
