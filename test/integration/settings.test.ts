import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import {
  SETTING, embeddingsModel, embeddingsPrecision, labelingAdvanceAfterLabel, labelingAnnotator, labelingDisplaySeed, labelingWordDiff, previewTopK,
  trainingDefaultModel, trainingKeepRunningOnWindowClose, trainingStopTimeoutMs,
} from '../../src/settings';
import { extensionId, getApi } from './helpers';

suite('settings: one module (src/settings.ts) over the settings package.json declares', () => {
  const target = vscode.ConfigurationTarget.Workspace;
  const set = (key: string, value: unknown) => vscode.workspace.getConfiguration().update(key, value, target);

  test('the keys in src/settings.ts are exactly the contributed rpo.* settings', async () => {
    await getApi();
    const pkg = vscode.extensions.getExtension(extensionId)!.packageJSON as { contributes: { configuration: { properties: Record<string, unknown> } } };
    assert.deepEqual(Object.values(SETTING).sort(), Object.keys(pkg.contributes.configuration.properties).sort());
  });

  test('getters give the declared defaults', () => {
    assert.equal(labelingAnnotator(), '');
    assert.equal(labelingDisplaySeed(), 'rpo');
    assert.equal(labelingAdvanceAfterLabel(), true);
    assert.equal(labelingWordDiff(), false);
    assert.equal(trainingStopTimeoutMs(), 120_000);
    assert.equal(trainingKeepRunningOnWindowClose(), true);
    assert.equal(trainingDefaultModel(), 'Qwen/Qwen2.5-0.5B-Instruct');
    assert.equal(embeddingsModel(), 'sentence-transformers/all-MiniLM-L6-v2');
    assert.equal(embeddingsPrecision(), 'q8');
    assert.equal(previewTopK(), 10);
  });

  test('a value of the wrong type falls back to the declared default; numbers are kept in range', async () => {
    try {
      await set(SETTING.previewTopK, 'lots');
      await set(SETTING.labelingWordDiff, 'yes');
      await set(SETTING.embeddingsPrecision, 'fp16');
      await set(SETTING.trainingStopTimeoutSeconds, 0.2);
      await set(SETTING.labelingAnnotator, '  ada  ');
      assert.equal(previewTopK(), 10);
      assert.equal(labelingWordDiff(), false);
      assert.equal(embeddingsPrecision(), 'q8');
      assert.equal(trainingStopTimeoutMs(), 1000, 'at least one second');
      assert.equal(labelingAnnotator(), 'ada');
      await set(SETTING.previewTopK, 1000);
      assert.equal(previewTopK(), 100);
    } finally {
      for (const key of [SETTING.previewTopK, SETTING.labelingWordDiff, SETTING.embeddingsPrecision, SETTING.trainingStopTimeoutSeconds, SETTING.labelingAnnotator]) await set(key, undefined);
    }
  });
});
