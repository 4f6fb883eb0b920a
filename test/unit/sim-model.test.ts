/** The interpreter model: what a program text produces, by general rules (no recordings, no node, no HTTP). */
import { describe, expect, it } from 'vitest';
import { modelOf, stagesOf, type JobExtras } from '../helpers/sim-model.js';

const interpreter = modelOf('interpreter');

async function runOf(language: string, content: string, extra: JobExtras = {}) {
  return stagesOf(interpreter, language, content, extra);
}

describe('sim model: python', () => {
  it('prints literals, arithmetic, loops, f-strings and lists', async () => {
    const { run: r } = await runOf('python', 'for i in range(3):\n    print(i, i * 2)\nxs = [1, 2, 3]\nprint(sum(xs), len(xs), xs)\nprint(f"total={sum(xs)}")\nprint(7 / 2, 7 // 2, 2 ** 10)');
    expect(r).toMatchObject({ stdout: '0 0\n1 2\n2 4\n6 3 [1, 2, 3]\ntotal=6\n3.5 3 1024\n', code: 0, status: null });
  });

  it('echoes stdin and argv', async () => {
    const { run: r } = await runOf('python', 'import sys\nname = input()\nprint(f"Hello, {name}!")\nprint(sys.argv[1:])', { stdin: 'Ada', args: ['x', 'y'] });
    expect(r.stdout).toBe("Hello, Ada!\n['x', 'y']\n");
  });

  it('runs user functions and __main__ guards', async () => {
    const { run: r } = await runOf('python', 'def double(n):\n    return n * 2\n\nif __name__ == "__main__":\n    print(double(21))\nelse:\n    print("never")');
    expect(r.stdout).toBe('42\n');
  });

  it('an undefined name is a NameError with a traceback, exit 1', async () => {
    const { run: r } = await runOf('python', 'x = 1\nprint(y_not_defined)');
    expect(r).toMatchObject({ status: 'RE', code: 1, message: 'Exited with error status 1', stdout: '' });
    expect(r.stderr).toBe(
      'Traceback (most recent call last):\n  File "/box/submission/file0.code", line 2, in <module>\n    print(y_not_defined)\nNameError: name \'y_not_defined\' is not defined\n',
    );
  });

  it('stdout is block-buffered: a traceback comes first in output, a kill loses unflushed output', async () => {
    const raised = (await runOf('python', 'print("before")\nraise RuntimeError("late")')).run;
    expect(raised.stdout).toBe('before\n');
    expect((raised.output as string).startsWith('Traceback')).toBe(true);
    const killed = (await runOf('python', 'import time\nprint("lost")\ntime.sleep(10)')).run;
    expect(killed).toMatchObject({ status: 'TO', message: 'Time limit exceeded (wall clock)', signal: 'SIGKILL', code: null, stdout: '' });
  });

  it('try/except catches the modeled exception', async () => {
    const { run: r } = await runOf('python', 'try:\n    int("abc")\nexcept ValueError as e:\n    print("bad:", e)');
    expect(r.stdout).toBe("bad: invalid literal for int() with base 10: 'abc'\n");
  });

  it('endless output overflows the output cap: OL, SIGKILL, code null', async () => {
    const { run: r } = await runOf('python', 'while True:\n    print("y")');
    expect(r).toMatchObject({ status: 'OL', signal: 'SIGKILL', code: null, message: 'stdout length exceeded' });
    expect(r.stderr).toBe('Sandbox keeper received fatal signal 6\n');
  });

  it('a long effect-free loop costs CPU time and hits the CPU limit', async () => {
    const { run: r } = await runOf('python', 'for i in range(10**9):\n    pass\nprint("done")');
    expect(r).toMatchObject({ status: 'TO', message: 'Time limit exceeded', stdout: '' });
    expect(r.cpu_time).toBeGreaterThan(3000);
  });

  it('sleep within the limit adds to wall time', async () => {
    const { run: r } = await runOf('python', 'import time\ntime.sleep(1.5)\nprint("ok")');
    expect(r).toMatchObject({ status: null, stdout: 'ok\n' });
    expect(r.wall_time).toBeGreaterThanOrEqual(1500);
    expect(r.cpu_time).toBeLessThan(100);
  });

  it('run_memory_limit kills big allocations with 137', async () => {
    const { run: r } = await runOf('python', 'data = "x" * (300 * 1024 * 1024)\nprint(len(data))', { run_memory_limit: 100_000_000 });
    expect(r).toMatchObject({ status: 'RE', code: 137, memory: 100_000_000, stdout: '' });
    expect(r.stderr).toMatch(/run: line 3: +3 Killed +\/usr\/bin\/python3 "\$@"\n$/);
  });

  it('the same program always gives the same answer, timings included (two models: nothing remembered)', () => {
    const a = stagesOf(modelOf('interpreter'), 'python', 'print("same")');
    const b = stagesOf(modelOf('interpreter'), 'python', 'print("same")');
    expect(a).toEqual(b);
  });
});

describe('sim model: javascript', () => {
  it('console.log formats like node, console.error goes to stderr, process.exit sets the code', async () => {
    const { run: r } = await runOf('javascript', 'const a = [1, 2, 3];\nconsole.log(a, a.length, "x".repeat(3));\nconsole.error("oops");\nprocess.exit(2);');
    expect(r).toMatchObject({ stdout: '[ 1, 2, 3 ] 3 xxx\n', stderr: 'oops\n', code: 2, status: 'RE' });
  });

  it('throw is an uncaught error: node prints the line and the stack, exit 1', async () => {
    const { run: r } = await runOf('javascript', 'console.log("start");\nthrow new TypeError("nope");');
    expect(r).toMatchObject({ stdout: 'start\n', code: 1, status: 'RE' });
    expect(r.stderr).toMatch(/^\/box\/submission\/file0\.code:2\nthrow new TypeError\("nope"\);\n\^\n\nTypeError: nope\n {4}at /);
    expect(r.stderr).toMatch(/Node\.js v20\.11\.1\n$/);
  });

  it('timers and stdin listeners run after the script, in time order', async () => {
    const { run: r } = await runOf('javascript', 'setTimeout(() => console.log("later"), 400);\nprocess.stdin.on("data", (d) => console.log("got", d.toString().trim()));\nconsole.log("now");', { stdin: 'abc' });
    expect(r.stdout).toBe('now\ngot abc\nlater\n');
    expect(r.wall_time).toBeGreaterThanOrEqual(400);
  });

  it('while (true) {} times out on CPU', async () => {
    const { run: r } = await runOf('javascript', 'while (true) {}', { run_cpu_time: 500 });
    expect(r).toMatchObject({ status: 'TO', message: 'Time limit exceeded', signal: 'SIGKILL' });
  });
});

describe('sim model: C and C++', () => {
  it('printf with stdin (scanf), loops and main\'s return value', async () => {
    const answer = await runOf('c', '#include <stdio.h>\nint main(void) {\n  int n = 0;\n  scanf("%d", &n);\n  for (int i = 0; i < n; i++) printf("%d:%s\\n", i * i, "sq");\n  return 7;\n}', { stdin: '3' });
    expect(answer.compile).toMatchObject({ code: 0, status: null, stdout: '', stderr: '' });
    expect(answer.run).toMatchObject({ stdout: '0:sq\n1:sq\n4:sq\n', code: 7, status: 'RE' });
  });

  it('an undeclared identifier fails compilation, and run is a copy of compile', async () => {
    const answer = await runOf('c++', '#include <iostream>\nint main() {\n  std::cout << total << std::endl;\n}');
    expect(answer.compile).toMatchObject({ code: 1, status: 'RE' });
    expect(answer.compile!.stderr).toBe(
      "file0.code.cpp: In function 'int main()':\nfile0.code.cpp:3:16: error: 'total' was not declared in this scope\n    3 |   std::cout << total << std::endl;\n      |                ^\nchmod: cannot access 'a.out': No such file or directory\n",
    );
    expect(answer.run).toEqual(answer.compile);
  });

  it('valid programs with unused parameters and library names compile', async () => {
    const answer = await runOf('c', '#include <stdio.h>\n#include <stdlib.h>\nint main(int argc, char **argv) {\n  char *p = malloc(16);\n  free(p);\n  fprintf(stderr, "warn %d\\n", EXIT_FAILURE);\n  return 0;\n}');
    expect(answer.compile!.code).toBe(0);
    expect(answer.run).toMatchObject({ stderr: 'warn 1\n', code: 0 });
  });

  it('uncaught C++ exceptions abort with 134, self-kill with SIGTERM is 143 Terminated', async () => {
    const thrown = (await runOf('c++', '#include <stdexcept>\nint main() { throw std::runtime_error("bad"); }')).run;
    expect(thrown.code).toBe(134);
    expect(thrown.stderr).toMatch(/^terminate called after throwing an instance of 'std::runtime_error'\n {2}what\(\): {2}bad\n.*Aborted {17}\.\/a\.out "\$@"\n$/s);
    const killed = (await runOf('c', '#include <signal.h>\nint main() { raise(SIGTERM); return 0; }')).run;
    expect(killed).toMatchObject({ code: 143, stderr: 'Terminated\n', status: 'RE', signal: null });
  });
});

describe('sim model: other languages', () => {
  it.each([
    ['ruby', 'puts "hello ruby"\nputs 1 + 2\nexit 5', 'hello ruby\n3\n', 5],
    ['bash', 'echo hello $1\necho "two  spaces"\nexit 3', 'hello first\ntwo  spaces\n', 3],
    ['rust', 'fn main() {\n    let x = 5;\n    println!("x = {}", x);\n    std::process::exit(4);\n}', 'x = 5\n', 4],
    ['java', 'public class Main {\n  public static void main(String[] args) {\n    System.out.println("Hello Java");\n  }\n}', 'Hello Java\n', 0],
    ['go', 'package main\nimport "fmt"\nfunc main() {\n\tfmt.Println("hello", 42)\n}', 'hello 42\n', 0],
    ['lua', 'print("hi lua")\nos.exit(2)', 'hi lua\n', 2],
  ])('%s: prints and exits', async (language, content, stdout, code) => {
    const answer = await runOf(language, content, { args: ['first'] });
    expect(answer.run).toMatchObject({ stdout, code });
    const compiled = ['rust', 'java', 'go'].includes(language);
    expect('compile' in answer).toBe(compiled);
  });

  it('a Go panic exits 2 and a Rust panic exits 101, with their stderr', async () => {
    const go = (await runOf('go', 'package main\nfunc main() {\n\tpanic("oh no")\n}')).run;
    expect(go).toMatchObject({ code: 2, status: 'RE' });
    expect(go.stderr).toMatch(/^panic: oh no\n/);
    const rust = (await runOf('rust', 'fn main() {\n    panic!("boom");\n}')).run;
    expect(rust).toMatchObject({ code: 101 });
    expect(rust.stderr).toMatch(/^thread 'main' panicked at 'boom'/);
  });
});
