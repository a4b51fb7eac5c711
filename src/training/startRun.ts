import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../node/atomicFile';
import { METHODS, type RunMethod } from '../core/run/config';
import { trainingDefaultModel } from '../settings';

/** Every method (names and what they train on: trainer/rpo_trainer/schemas/methods.json) with what it is, in the order offered. */
const METHOD_DETAIL: Record<RunMethod, string> = {
  rpo: 'Relative Preference Optimization (Yin et al. 2024): contrasts every chosen with every rejected response in the batch, weighted by prompt similarity. Not TRL’s rpo_alpha (Pang et al.).',
  'rpo-unpaired': 'RPO (Yin et al.) on thumbs-up / thumbs-down data: chosen and rejected items with different prompts.',
  dpo: 'Direct Preference Optimization: same-prompt pairs only (the baseline).',
  'rpo-uniform': 'Ablation: every pair of the batch with weight 1.',
  'rpo-diagonal': 'Ablation without embeddings: 0.8 × same-prompt loss + 0.2 × mean cross-prompt loss.',
  ipo: 'Identity Preference Optimization: squared margin loss.',
};

interface Knobs {
  beta: number;
  tau: number;
  batch_size: number;
  learning_rate: number;
  epochs: number;
  lora: boolean;
  precision: 'auto' | 'bf16' | 'fp16' | 'fp32';
}

const DEFAULT_KNOBS: Knobs = { beta: 0.1, tau: 0.5, batch_size: 4, learning_rate: 5e-6, epochs: 1, lora: true, precision: 'auto' };

const KNOB_HELP: Record<keyof Knobs, string> = {
  beta: 'how far the policy may move from the reference (0.1 in the paper)',
  tau: 'prompt-similarity temperature of the RPO weights (0.25 / 0.5 / 0.75 in the paper)',
  batch_size: 'records per device per step; RPO contrasts the records of one batch',
  learning_rate: 'peak learning rate (LoRA: ~5e-6 to 5e-5; full fine-tuning: ~5e-7)',
  epochs: 'passes over the training records',
  lora: 'train a LoRA adapter instead of all weights',
  precision: 'auto = bf16 on GPUs that support it, else fp32',
};

function isPreferenceFile(uri: vscode.Uri | undefined): uri is vscode.Uri {
  return !!uri && uri.scheme === 'file' && uri.fsPath.endsWith('.jsonl');
}

/** The preference file of the active editor (text or custom editor tab), if any. */
export function activePreferenceFile(): vscode.Uri | undefined {
  const doc = vscode.window.activeTextEditor?.document.uri;
  if (isPreferenceFile(doc)) return doc;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return isPreferenceFile(uri) ? uri : undefined;
}

export interface ChosenConfig {
  configPath: string;
  folder: vscode.WorkspaceFolder | undefined;
}

/**
 * "Start Training Run…": a run config from the workspace, or a new one built with quick picks
 * over a preference file (saved to .rpo/configs/ so the run can be repeated or run with `rpo train`).
 */
export async function chooseRunConfig(arg?: vscode.Uri): Promise<ChosenConfig | undefined> {
  if (arg?.fsPath.endsWith('.rpo.json')) return { configPath: arg.fsPath, folder: vscode.workspace.getWorkspaceFolder(arg) };
  if (isPreferenceFile(arg)) return buildConfig(arg);
  const current = activePreferenceFile();
  const configs = await vscode.workspace.findFiles('**/*.rpo.json', '{**/node_modules/**,**/.rpo/runs/**}', 200);
  type Item = vscode.QuickPickItem & { run: () => Promise<ChosenConfig | undefined> };
  const items: Item[] = [];
  if (current) items.push({ label: `$(file) ${path.basename(current.fsPath)}`, description: 'the current preference file', detail: 'Choose model, method and settings next', run: () => buildConfig(current) });
  const descriptions = new Map(await Promise.all(configs.map(async (uri) => [uri.toString(), await configDescription(uri)] as const)));
  if (configs.length) items.push({ label: 'Run configs', kind: vscode.QuickPickItemKind.Separator, run: async () => undefined });
  for (const uri of configs.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    const detail = descriptions.get(uri.toString());
    items.push({ label: `$(json) ${path.basename(uri.fsPath)}`, description: vscode.workspace.asRelativePath(uri), ...(detail ? { detail } : {}), run: async () => ({ configPath: uri.fsPath, folder: vscode.workspace.getWorkspaceFolder(uri) }) });
  }
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator, run: async () => undefined });
  items.push({
    label: '$(folder-opened) Choose a preference file…',
    run: async () => {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Preference data': ['jsonl'] }, openLabel: 'Train on this file' });
      return picked?.[0] ? buildConfig(picked[0]) : undefined;
    },
  });
  const pick = await vscode.window.showQuickPick(items, { title: 'Start Training Run', placeHolder: 'Train on the current preference file, or pick a run config (*.rpo.json)' });
  return pick?.run();
}

/** A run config's own `description` (free text, shown in the pick); undefined when it has none or does not parse. */
async function configDescription(uri: vscode.Uri): Promise<string | undefined> {
  try {
    const d = (JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8')) as { description?: unknown }).description;
    return typeof d === 'string' && d.trim() ? d.trim() : undefined;
  } catch {
    return undefined; // the schema validation reports a config that does not parse
  }
}

async function pickModel(): Promise<string | undefined> {
  const fallback = trainingDefaultModel();
  const suggestions = [...new Set([fallback, 'Qwen/Qwen2.5-0.5B-Instruct', 'HuggingFaceTB/SmolLM2-360M-Instruct', 'meta-llama/Llama-3.2-1B-Instruct'])];
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
    qp.title = 'Start Training Run (1/3): base model';
    qp.placeholder = 'A Hugging Face Hub id (type one) or a local model folder';
    const folderItem: vscode.QuickPickItem = { label: '$(folder) Local model folder…' };
    const base = [...suggestions.map((label) => ({ label, description: label === fallback ? 'default (rpo.training.defaultModel)' : undefined })), folderItem];
    qp.items = base;
    qp.onDidChangeValue((v) => {
      qp.items = v && !suggestions.includes(v) ? [{ label: v, description: 'Hub id or path' }, ...base] : base;
    });
    let done = false;
    qp.onDidAccept(async () => {
      const item = qp.selectedItems[0];
      done = true;
      qp.hide();
      if (item === folderItem) {
        const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model' });
        resolve(folder?.[0]?.fsPath);
      } else resolve(item?.label);
    });
    qp.onDidHide(() => {
      if (!done) resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

async function editKnob(knobs: Knobs, key: keyof Knobs): Promise<void> {
  if (key === 'lora') {
    const pick = await vscode.window.showQuickPick(['on', 'off'], { title: 'LoRA', placeHolder: KNOB_HELP.lora });
    if (pick) knobs.lora = pick === 'on';
    return;
  }
  if (key === 'precision') {
    const pick = await vscode.window.showQuickPick(['auto', 'bf16', 'fp16', 'fp32'], { title: 'Precision', placeHolder: KNOB_HELP.precision });
    if (pick) knobs.precision = pick as Knobs['precision'];
    return;
  }
  const integer = key === 'batch_size' || key === 'epochs';
  const value = await vscode.window.showInputBox({
    title: key,
    prompt: KNOB_HELP[key],
    value: String(knobs[key]),
    validateInput: (v) => {
      const n = Number(v);
      if (!v.trim() || !Number.isFinite(n) || n <= 0) return 'Enter a number greater than 0';
      if (integer && !Number.isInteger(n)) return 'Enter a whole number';
      return undefined;
    },
  });
  if (value !== undefined) (knobs[key] as number) = Number(value);
}

async function buildConfig(dataset: vscode.Uri): Promise<ChosenConfig | undefined> {
  const model = await pickModel();
  if (!model) return undefined;
  const method = await vscode.window.showQuickPick(
    (Object.entries(METHOD_DETAIL) as [RunMethod, string][]).map(([id, detail]) => ({ label: id, detail, picked: id === 'rpo', id })),
    { title: 'Start Training Run (2/3): method', placeHolder: 'Training objective (RPO here is Yin et al. 2024, not TRL’s rpo_alpha)', matchOnDetail: true },
  );
  if (!method) return undefined;
  const knobs = { ...DEFAULT_KNOBS };
  for (;;) {
    const items: (vscode.QuickPickItem & { key?: keyof Knobs })[] = [
      { label: '$(play) Start training', description: `${method.label} on ${path.basename(model)}` },
      ...(Object.keys(knobs) as (keyof Knobs)[])
        .filter((k) => k !== 'tau' || METHODS[method.id].embeddings)
        .map((k) => ({ label: `${k}: ${k === 'lora' ? (knobs.lora ? 'on' : 'off') : String(knobs[k])}`, description: KNOB_HELP[k], key: k })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Start Training Run (3/3): settings', placeHolder: 'Change a setting, or start' });
    if (!pick) return undefined;
    if (!pick.key) break;
    await editKnob(knobs, pick.key);
  }
  const folder = vscode.workspace.getWorkspaceFolder(dataset) ?? vscode.workspace.workspaceFolders?.[0];
  const root = folder?.uri.fsPath ?? path.dirname(dataset.fsPath);
  const configsDir = path.join(root, '.rpo', 'configs');
  await fs.promises.mkdir(configsDir, { recursive: true });
  const name = `${method.label}-${path.basename(dataset.fsPath).replace(/\.jsonl$/, '').replace(/\.pref$/, '').replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 80);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const configPath = path.join(configsDir, `${name}-${stamp}.rpo.json`);
  const isLocalModel = path.isAbsolute(model) && fs.existsSync(model);
  const config: Record<string, unknown> = {
    name,
    model: isLocalModel ? path.relative(configsDir, model) : model,
    dataset: path.relative(configsDir, dataset.fsPath),
    method: method.label,
    beta: knobs.beta,
    ...(METHODS[method.id].embeddings ? { tau: knobs.tau } : {}),
    // The weight preview's cache is the workspace's, not one next to this config.
    ...(METHODS[method.id].embeddings ? { embeddings: { cache_dir: path.relative(configsDir, path.join(root, '.rpo', 'embeddings')) } } : {}),
    batch_size: knobs.batch_size,
    learning_rate: knobs.learning_rate,
    epochs: knobs.epochs,
    lora: { enabled: knobs.lora },
    precision: knobs.precision,
    output_dir: path.relative(configsDir, path.join(root, '.rpo', 'runs')),
  };
  // Atomic: the file is picked up by globs (and tests) as soon as its name exists.
  await writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n');
  return { configPath, folder };
}
