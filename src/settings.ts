import * as vscode from 'vscode';
import { isPolicy, type ResolutionPolicy } from './core/dataset/votes';

/**
 * Every RPO Studio setting: its key and a typed getter. Nothing else in the extension names a
 * setting. The keys, defaults, ranges and descriptions are declared in package.json
 * (`contributes.configuration`); a getter falls back to that declared default when a value has
 * the wrong type, so a hand-edited settings.json cannot crash a feature.
 * test/integration/settings.test.ts checks that the keys here and in package.json are the same.
 */
export const SETTING = {
  labelingAnnotator: 'rpo.labeling.annotator',
  labelingDisplaySeed: 'rpo.labeling.displaySeed',
  labelingAdvanceAfterLabel: 'rpo.labeling.advanceAfterLabel',
  labelingWordDiff: 'rpo.labeling.wordDiff',
  labelingResolution: 'rpo.labeling.resolution',
  pythonPath: 'rpo.python.path',
  trainingStopTimeoutSeconds: 'rpo.training.stopTimeoutSeconds',
  trainingKeepRunningOnWindowClose: 'rpo.training.keepRunningOnWindowClose',
  trainingDefaultModel: 'rpo.training.defaultModel',
  embeddingsModel: 'rpo.embeddings.model',
  embeddingsPrecision: 'rpo.embeddings.precision',
  previewTopK: 'rpo.preview.topK',
} as const;

export type SettingKey = (typeof SETTING)[keyof typeof SETTING];

/** The value in effect (user, workspace, folder), or the declared default when it has the wrong type. */
function read<T>(key: SettingKey, valid: (v: unknown) => v is T, scope?: vscode.ConfigurationScope): T {
  const c = vscode.workspace.getConfiguration(undefined, scope);
  const value = c.get<unknown>(key);
  if (valid(value)) return value;
  const declared = c.inspect<unknown>(key)?.defaultValue;
  if (valid(declared)) return declared;
  throw new Error(`setting ${key} has no valid default in package.json`);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `rpo.labeling.annotator`, trimmed; empty when unset (the caller falls back to git user.name). */
export function labelingAnnotator(): string {
  return read(SETTING.labelingAnnotator, isString).trim();
}

export function labelingDisplaySeed(): string {
  return read(SETTING.labelingDisplaySeed, isString);
}

export function labelingAdvanceAfterLabel(): boolean {
  return read(SETTING.labelingAdvanceAfterLabel, isBoolean);
}

export function labelingWordDiff(): boolean {
  return read(SETTING.labelingWordDiff, isBoolean);
}

/** `rpo.labeling.resolution` for a file (resource scope: a folder's settings may differ). */
export function labelingResolution(file?: vscode.Uri): ResolutionPolicy {
  return read(SETTING.labelingResolution, isPolicy, file);
}

/**
 * `rpo.python.path` from the user's (or remote machine's) settings only. The setting is
 * machine-scoped, and the workspace's value is ignored even if one is present: nothing in a
 * workspace may choose the executable that runs.
 */
export function pythonPath(): string | undefined {
  const user = vscode.workspace.getConfiguration().inspect<unknown>(SETTING.pythonPath)?.globalValue;
  return typeof user === 'string' && user.trim() ? user.trim() : undefined;
}

/** `rpo.training.stopTimeoutSeconds` in milliseconds, at least one second. */
export function trainingStopTimeoutMs(): number {
  return Math.max(1, read(SETTING.trainingStopTimeoutSeconds, isNumber)) * 1000;
}

export function trainingKeepRunningOnWindowClose(): boolean {
  return read(SETTING.trainingKeepRunningOnWindowClose, isBoolean);
}

export function trainingDefaultModel(): string {
  return read(SETTING.trainingDefaultModel, isString).trim() || String(vscode.workspace.getConfiguration().inspect(SETTING.trainingDefaultModel)?.defaultValue);
}

/** `rpo.embeddings.model`: a Hub id or a local folder (restricted in untrusted workspaces: VS Code then ignores the workspace's value). */
export function embeddingsModel(): string {
  return read(SETTING.embeddingsModel, isString).trim() || String(vscode.workspace.getConfiguration().inspect(SETTING.embeddingsModel)?.defaultValue);
}

export function embeddingsPrecision(): 'q8' | 'fp32' {
  return read(SETTING.embeddingsPrecision, (v): v is 'q8' | 'fp32' => v === 'q8' || v === 'fp32');
}

/** `rpo.preview.topK`: an integer from 1 to 100. */
export function previewTopK(): number {
  return Math.max(1, Math.min(100, Math.round(read(SETTING.previewTopK, isNumber))));
}

/** Sets a setting in the user's settings (never the workspace's). */
export function updateUserSetting(key: SettingKey, value: unknown): Thenable<void> {
  return vscode.workspace.getConfiguration().update(key, value, vscode.ConfigurationTarget.Global);
}
