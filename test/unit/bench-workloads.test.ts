import { describe, expect, it } from 'vitest';
import runtimesAll from '../fixtures/runtimes-all-packages.json' with { type: 'json' };
import { createPicker, fitBuiltinWorkload, parseWorkloadFile } from '../../src/bench/workloads.js';
import { Recorder } from '../../src/bench/recorder.js';

describe('workloads', () => {
  it('fits the built-in mix to the runtimes a target offers', () => {
    const mix = fitBuiltinWorkload('mix', runtimesAll);
    expect(mix.items.map((i) => i.name.split(' ')[0])).toEqual(['hello', 'cpu', 'sleep', 'compile']);
    for (const item of mix.items) expect(item.request.version).toMatch(/\d/);
    const onlyC = fitBuiltinWorkload('mix', [{ language: 'c', version: '10.2.0', aliases: ['gcc'] }]);
    expect(onlyC.items.map((i) => i.name)).toEqual(['compile (c)']);
    expect(() => fitBuiltinWorkload('hello', [{ language: 'c', version: '10.2.0', aliases: [] }])).toThrow(/needs one of python/);
  });

  it('reads JSON and JSONL files of weighted requests', () => {
    const jsonl = parseWorkloadFile('{"language":"python","code":"print(1)","weight":3}\n\n{"name":"n","request":{"language":"c","files":[{"content":"int main(){}"}]}}\n', 'w.jsonl');
    expect(jsonl.items).toMatchObject([
      { weight: 3, request: { language: 'python', files: [{ content: 'print(1)' }] } },
      { name: 'n', weight: 1, request: { language: 'c' } },
    ]);
    const json = parseWorkloadFile('{"requests":[{"language":"js","code":"1"}]}', 'w.json');
    expect(json.items).toHaveLength(1);
    expect(() => parseWorkloadFile('[{"language":"python"}]', 'w.json')).toThrow(/request 1.*either "code" or "files"/);
    expect(() => parseWorkloadFile('{"language":"python","code":"1","weight":-1}', 'w.json')).toThrow(/weight/);
  });

  it('picks by weight, the same sequence for the same seed', () => {
    const items = parseWorkloadFile('[{"name":"a","language":"x","code":"","weight":3},{"name":"b","language":"x","code":"","weight":1}]', 'w.json').items;
    const pick = createPicker(items, 7);
    const names = Array.from({ length: 4000 }, () => pick().name);
    const share = names.filter((n) => n === 'a').length / names.length;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
    const again = createPicker(items, 7);
    expect(Array.from({ length: 4000 }, () => again().name)).toEqual(names);
  });
});

describe('recorder', () => {
  it('accounts for every completion and keeps warm-up apart', () => {
    const recorder = new Recorder({ measureStartMs: () => 0, inFlight: () => 0, waiting: () => 0 }, (s) => s);
    const classes = ['ok', 'ok', 'program_error', 'node_fault', 'overload', 'client_error', 'timeout'] as const;
    classes.forEach((c, i) => {
      recorder.recordSent(true, i * 10);
      recorder.record({ measured: true, workload: 'w', latencyMs: 5 + i, completedAtMs: i * 400, outcome: { class: c, node: i % 2 ? 'a' : 'b' } });
    });
    recorder.recordSent(false, 0);
    recorder.record({ measured: false, workload: 'w', latencyMs: 1, completedAtMs: 0, outcome: { class: 'ok', node: 'a' } });
    const run = recorder.finish();
    expect(run.counts).toMatchObject({ sent: 7, answered: 3, failed: 4, warmup: 1 });
    expect(run.nodes.reduce((s, n) => s + n.share, 0)).toBeCloseTo(1, 9);
    expect(run.timeline.map((p) => p.t)).toEqual([0, 1, 2]);
    expect(run.timeline.reduce((s, p) => s + p.answered + p.failed, 0)).toBe(7);
    expect(run.latency.count).toBe(3);
  });
});
