import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { conflictMarkers } from '../conflict-markers.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Every file git tracks (the index, so a staged resolution counts), relative to the root. */
function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file.length > 0);
}

describe('merge-conflict markers', () => {
  it('finds the three markers git writes, at the start of a line, with their line numbers', () => {
    const text = ['a', '<<<<<<< HEAD', 'ours', '=======', 'theirs', '>>>>>>> issue-13', 'b'].join('\n');
    assert.deepEqual(conflictMarkers(text), [
      { line: 2, text: '<<<<<<< HEAD' },
      { line: 4, text: '=======' },
      { line: 6, text: '>>>>>>> issue-13' },
    ]);
  });

  it('finds a marker a formatter indented or wrapped in a table cell (how platform/aws/README.md broke)', () => {
    assert.deepEqual(conflictMarkers('| =======                           |\n> > > > > > > issue-13\n'), [
      { line: 1, text: '| =======                           |' },
      { line: 2, text: '> > > > > > > issue-13' },
    ]);
  });

  it('leaves alone what only looks alike: markdown rules, setext headings, shorter or longer runs', () => {
    const text = ['Title', '=====', '---', '<<<<<< six', '>>>>>>>> eight', 'x ======= y', '| --- |'].join(
      '\n',
    );
    assert.deepEqual(conflictMarkers(text), []);
  });

  it('no tracked source or documentation file holds a merge-conflict marker', () => {
    const found: string[] = [];
    for (const file of trackedFiles()) {
      let text: string;
      try {
        text = readFileSync(join(root, file), 'utf8');
      } catch {
        continue; // deleted in the work tree but still in the index: nothing to read
      }
      if (text.includes('\0')) continue; // binary
      for (const marker of conflictMarkers(text)) found.push(`${file}:${marker.line}: ${marker.text}`);
    }
    assert.deepEqual(found, []);
  });
});
