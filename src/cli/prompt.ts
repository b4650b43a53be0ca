/**
 * Asking the person at the terminal for a secret: the characters are not echoed, and nothing is
 * kept beyond the answer. Only on a terminal: a secret never comes from argv, and a pipe is a
 * file (--password-file -), not a prompt.
 */
import {UserError} from '../errors.js'

const MAX_SECRET_CHARS = 1024

interface SecretPrompt {
  input: NodeJS.ReadStream
  output: NodeJS.WritableStream
}

/**
 * Asks each question in turn and reads one line for each without echo, from one stream of keys (Ctrl-C or Ctrl-D cancels): a
 * terminal may deliver what was typed ahead in one chunk, and no line of it is lost.
 */
function askSecrets(questions: readonly string[], terminal: SecretPrompt = {input: process.stdin, output: process.stderr}): Promise<string[]> {
  const {input, output} = terminal
  if (!input.isTTY) {
    throw new UserError('E_PASSWORD', 'there is no terminal to ask for the password on', {hint: 'give --password-file FILE (or - to read it from standard input)', kind: 'usage'})
  }

  // No echo before the question shows: what is typed as soon as it appears must not be echoed.
  input.setRawMode(true)
  output.write(questions[0])
  return new Promise((resolve, reject) => {
    const answers: string[] = []
    let answer = ''
    let afterReturn = false
    const finish = (error?: UserError): void => {
      input.setRawMode(false)
      input.pause()
      input.off('data', onData)
      if (error) {
        output.write('\n')
        reject(error)
      } else resolve(answers)
    }

    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        // A terminal sends \r, a pipe through a pseudo-terminal \r\n: one end of line.
        const wasReturn = afterReturn
        afterReturn = char === '\r'
        if (char === '\n' && wasReturn) continue
        if (char === '\r' || char === '\n') {
          answers.push(answer)
          answer = ''
          output.write('\n')
          if (answers.length === questions.length) return finish()
          output.write(questions[answers.length])
        } else if (char === '\u0003' || char === '\u0004') {
          return finish(new UserError('E_PASSWORD', 'cancelled: no password was given', {hint: 'run the command again', kind: 'usage'}))
        } else if (char === '\u007f' || char === '\b') {
          answer = [...answer].slice(0, -1).join('')
        } else if (char >= ' ' && answer.length < MAX_SECRET_CHARS) {
          answer += char
        }
      }
    }

    input.on('data', onData)
    input.resume()
  })
}

/** Asks twice, as passwd does: a mistyped password would lock the user out. */
export async function askNewPassword(what: string, terminal?: SecretPrompt): Promise<string> {
  const [first, second] = await askSecrets([`${what}: `, `${what} again: `], terminal)
  if (first !== second) throw new UserError('E_PASSWORD', 'the two passwords differ', {hint: 'run the command again and type the same password twice', kind: 'usage'})
  if (first === '') throw new UserError('E_PASSWORD', 'the password is empty', {hint: 'type a password, or give --ssh-key instead', kind: 'usage'})
  return first
}
