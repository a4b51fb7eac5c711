import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { extensionId, getApi, workspaceFolder } from './helpers';
import { requireTestPython } from '../support/python.cjs';

/**
 * RPO: Compare Runs by Win Rate… (rpo.run.compare) and RPO: Pre-fill Votes with a Reward Model…
 * (rpo.winrate.judge) in a real VS Code: two tiny runs trained on the CPU, compared into one
 * candidates file through rpo.run.sample's generation; then a tiny local sequence-classification
 * model (made as trainer/tests/test_judge.py makes it) votes on that file.
 */

function repoFile(rel: string): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, rel))) return path.join(dir, rel);
  }
  throw new Error(`${rel} not found above ${__dirname}`);
}

interface SidecarHeader {
  models?: Record<'A' | 'B', { kind: string; run_dir: string | null }>;
  prompts?: { split: string };
  settings?: { max_new_tokens: number };
}

const REWARD_MODEL = `
import sys, torch, transformers
src, out = sys.argv[1], sys.argv[2]
config = transformers.AutoConfig.from_pretrained(src)
config.num_labels = 1
torch.manual_seed(0)
transformers.AutoModelForSequenceClassification.from_config(config).save_pretrained(out)
transformers.AutoTokenizer.from_pretrained(src).save_pretrained(out)
`;

suite('Compare runs by win rate and pre-fill votes: real generation and judging from VS Code', function () {
  this.timeout(300_000);
  const runs: string[] = [];
  let rewardModel: string;
  let candidates: string;

  suiteSetup(async function () {
    this.timeout(300_000);
    await getApi();
    const python = requireTestPython(__dirname);
    const trainerRoot = path.join(vscode.extensions.getExtension(extensionId)!.extensionUri.fsPath, 'trainer');
    const env = { ...process.env, PYTHONPATH: trainerRoot, OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1' };
    const run = promisify(execFile);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpo-winrate-it-'));
    const modelDir = path.join(tmp, 'tiny');
    await run(python, ['-m', 'rpo_trainer.testing.tiny_model', modelDir], { env });
    rewardModel = path.join(tmp, 'tiny-rm');
    await run(python, ['-c', REWARD_MODEL, modelDir, rewardModel], { env });
    const ws = workspaceFolder().uri.fsPath;
    const dataDir = path.join(ws, 'winrate-it');
    fs.mkdirSync(dataDir, { recursive: true });
    const fixtures = repoFile(path.join('test', 'fixtures', 'training'));
    fs.copyFileSync(path.join(fixtures, 'tiny.pref.jsonl'), path.join(dataDir, 'tiny.pref.jsonl'));
    for (const name of ['wr-rpo', 'wr-dpo']) {
      const config = JSON.parse(fs.readFileSync(path.join(fixtures, 'tiny-dpo.rpo.json'), 'utf8')) as Record<string, unknown>;
      delete config.$schema;
      Object.assign(config, { name, model: modelDir, max_steps: 1, eval_split: 0.25, output_dir: '../.rpo/runs' });
      const configPath = path.join(dataDir, `${name}.rpo.json`);
      fs.writeFileSync(configPath, JSON.stringify(config));
      const { stdout } = await run(python, ['-m', 'rpo_trainer', 'train', '--config', configPath], { env, cwd: trainerRoot });
      const end = JSON.parse(stdout.trim().split('\n').pop()!) as { status: string; run_dir: string };
      assert.equal(end.status, 'completed');
      runs.push(end.run_dir);
    }
    await vscode.workspace.getConfiguration('rpo.python').update('path', python, vscode.ConfigurationTarget.Global);
  });

  test('compare: both runs answer run A\'s eval prompts into one blind file whose sidecar names both runs', async () => {
    const [a, b] = runs as [string, string];
    const file = await vscode.commands.executeCommand<string | undefined>('rpo.run.compare', a, b, { greedy: true, maxNewTokens: 4, numPrompts: 2, batchSize: 2 });
    assert.ok(file && fs.existsSync(file), `no candidates file: ${String(file)}`);
    candidates = file;
    assert.equal(path.dirname(file), path.join(a, 'samples'));
    const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(records.length, 2);
    for (const r of records) assert.deepEqual(Object.keys(r), ['prompt', 'responses']);
    const side = fs.readFileSync(`${file}.sources.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SidecarHeader);
    assert.equal(side.length, 3);
    const models = side[0]!.models!;
    assert.deepEqual([models.A.kind, models.A.run_dir && path.resolve(models.A.run_dir)], ['run', path.resolve(a)]);
    assert.deepEqual([models.B.kind, models.B.run_dir && path.resolve(models.B.run_dir)], ['run', path.resolve(b)]);
    assert.equal(side[0]!.prompts?.split, 'eval');
    assert.equal(side[0]!.settings?.max_new_tokens, 4);
    assert.ok(!fs.existsSync(`${file}.lock`), 'the generator left its lock');
  });

  test('judge: a local reward model appends model:<name> votes, every other byte kept', async () => {
    assert.ok(candidates, 'needs the compare test\'s file');
    const before = fs.readFileSync(candidates, 'utf8');
    const out = await vscode.commands.executeCommand<{ voted?: number; annotator?: string; labeled?: number } | undefined>('rpo.winrate.judge', candidates, rewardModel);
    assert.deepEqual(out && [out.annotator, out.voted, out.labeled], ['model:tiny-rm', 2, 0]);
    const after = fs.readFileSync(candidates, 'utf8');
    const linesBefore = before.split('\n');
    const linesAfter = after.split('\n');
    assert.equal(linesAfter.length, linesBefore.length);
    for (let i = 0; i < linesBefore.length; i++) {
      if (!linesBefore[i]) {
        assert.equal(linesAfter[i], linesBefore[i]);
        continue;
      }
      // The votes are the line's new last key: the old line but its closing brace is a prefix.
      const old = linesBefore[i]!;
      assert.ok(linesAfter[i]!.startsWith(old.slice(0, -1)) && linesAfter[i]!.endsWith('}'), `line ${i + 1} changed beyond the votes`);
      const record = JSON.parse(linesAfter[i]!) as { rpo_votes: Array<{ annotator: string; choice: string | null; status: string | null }> };
      assert.deepEqual(Object.keys(record), ['prompt', 'responses', 'rpo_votes']);
      assert.equal(record.rpo_votes.length, 1);
      assert.equal(record.rpo_votes[0]!.annotator, 'model:tiny-rm');
      assert.ok(record.rpo_votes[0]!.choice !== null || record.rpo_votes[0]!.status === 'tie');
    }
  });
});
