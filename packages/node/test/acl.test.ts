import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopicAcl, validateTopic } from '../src/topics/acl.js';
import { compileGlob, globCacheStats, globMatch, isGlob } from '../src/topics/glob.js';

describe('globMatch', () => {
  const cases: Array<[string, string, boolean]> = [
    ['chat', 'chat', true],
    ['chat', 'chat2', false],
    ['chat', 'Chat', false],
    ['*', '', true],
    ['*', 'anything:at/all', true],
    ['chat:*', 'chat:', true],
    ['chat:*', 'chat:42', true],
    ['chat:*', 'chat', false],
    ['chat:*', 'news:chat:1', false],
    ['*:42', 'chat:42', true],
    ['*:42', 'chat:421', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'a-b-b-c', true],
    ['a*b*c', 'a-c-b', false],
    ['a*b*c', 'abcx', false],
    ['*b*', 'abc', true],
    ['**', '', true],
    ['?', 'a', true],
    ['?', '', false],
    ['?', 'ab', false],
    ['chat:??', 'chat:42', true],
    ['chat:??', 'chat:4', false],
    ['chat:?*', 'chat:', false],
    ['chat:?*', 'chat:1', true],
    ['*?', '', false],
    ['*?x', 'ax', true],
    // Everything except * and ? is literal: no RegExp or character-class semantics leak in.
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['a+', 'aa', false],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['^a$', '^a$', true],
    ['a\\*', 'a\\zz', true],
    ['(x|y)', 'x', false],
    // `?` is one character, a surrogate pair included.
    ['?', '😀', true],
    ['??', '😀', false],
    ['a?c', 'a😀c', true],
    ['*😀', 'x😀', true],
  ];
  for (const [pattern, topic, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(topic)}`, () => {
      assert.equal(globMatch(pattern, topic), expected);
    });
  }

  it('stays linear on patterns that make backtracking RegExps explode', () => {
    const pattern = `${'*a'.repeat(120)}*b`;
    const topic = 'a'.repeat(256);
    const started = performance.now();
    for (let i = 0; i < 20; i++) assert.equal(globMatch(pattern, topic), false);
    assert.ok(performance.now() - started < 1000, 'twenty worst-case matches in under a second');
  });

  it('isGlob', () => {
    assert.equal(isGlob('chat:*'), true);
    assert.equal(isGlob('chat:?'), true);
    assert.equal(isGlob('chat:1'), false);
    assert.equal(isGlob(''), false);
  });

  it('compiles each pattern once and bounds the cache', () => {
    const first = compileGlob('cache:test:*');
    assert.equal(compileGlob('cache:test:*'), first);
    const before = globCacheStats().clears;
    for (let i = 0; i < 10_001; i++) compileGlob(`flood:${i}:*`);
    const stats = globCacheStats();
    assert.ok(stats.size <= 10_000, `size ${stats.size}`);
    assert.ok(stats.clears > before, 'a full cache is cleared and counted');
    assert.equal(globMatch('cache:test:*', 'cache:test:1'), true, 'still correct after a clear');
  });
});

describe('TopicAcl', () => {
  it('allowAll and denyAll', () => {
    assert.equal(TopicAcl.allowAll().allows('anything'), true);
    assert.equal(TopicAcl.allowAll().allowsEverything, true);
    assert.equal(TopicAcl.denyAll().allows('anything'), false);
    assert.equal(TopicAcl.denyAll().allowsEverything, false);
  });

  it('allow globs', () => {
    const acl = TopicAcl.fromClaim({ allow: ['chat:*', 'user:alice'] });
    assert.equal(acl.allows('chat:1'), true);
    assert.equal(acl.allows('user:alice'), true);
    assert.equal(acl.allows('user:bob'), false);
    assert.equal(acl.allowsEverything, false);
  });

  it('deny beats allow', () => {
    const acl = TopicAcl.fromClaim({ allow: ['chat:*'], deny: ['chat:admin*', 'chat:?'] });
    assert.equal(acl.allows('chat:room'), true);
    assert.equal(acl.allows('chat:admin'), false);
    assert.equal(acl.allows('chat:admins'), false);
    assert.equal(acl.allows('chat:7'), false);
    assert.equal(TopicAcl.fromClaim({ allow: ['*'], deny: ['*'] }).allows('x'), false);
  });

  it('deny only: everything else is allowed', () => {
    const acl = TopicAcl.fromClaim({ deny: ['secret:*'] });
    assert.equal(acl.allows('public'), true);
    assert.equal(acl.allows('secret:1'), false);
  });

  it('empty allow allows nothing; empty object allows everything', () => {
    assert.equal(TopicAcl.fromClaim({ allow: [] }).allows('chat'), false);
    assert.equal(TopicAcl.fromClaim({}).allows('chat'), true);
  });

  it('checks glob subscriptions as literal pattern text', () => {
    const acl = TopicAcl.fromClaim({ allow: ['chat:*'] });
    assert.equal(acl.allows('chat:*'), true);
    assert.equal(acl.allows('*'), false, 'a wider pattern is not covered by a narrower allow');
  });

  it('malformed claims deny everything and never throw', () => {
    const malformed: unknown[] = [
      null, 'chat:*', 42, true, ['chat:*'],
      { allow: 'chat:*' }, { allow: [1] }, { allow: ['ok', null] }, { deny: 'x' }, { deny: [{}] },
      { allow: ['*'], deny: 'x' },
    ];
    for (const claim of malformed) {
      const acl = TopicAcl.fromClaim(claim);
      assert.equal(acl.allows('chat:1'), false, JSON.stringify(claim));
      assert.equal(acl.allows(''), false, JSON.stringify(claim));
    }
  });
});

describe('validateTopic', () => {
  it('accepts ordinary topics up to the limit', () => {
    assert.equal(validateTopic('chat:42', 256), null);
    assert.equal(validateTopic('a'.repeat(256), 256), null);
    assert.equal(validateTopic('chat:*', 256), null);
  });

  it('names each problem', () => {
    assert.equal(validateTopic(42, 256), 'not_string');
    assert.equal(validateTopic(null, 256), 'not_string');
    assert.equal(validateTopic(['a'], 256), 'not_string');
    assert.equal(validateTopic('', 256), 'empty');
    assert.equal(validateTopic('a'.repeat(257), 256), 'too_long');
    assert.equal(validateTopic('a\nb', 256), 'control_char');
    assert.equal(validateTopic('a\u0000', 256), 'control_char');
    assert.equal(validateTopic('a\u007f', 256), 'control_char');
    assert.equal(validateTopic('a\tb', 256), 'control_char');
  });

  it('counts UTF-8 bytes', () => {
    assert.equal(validateTopic('é'.repeat(5), 10), null, '10 bytes');
    assert.equal(validateTopic('é'.repeat(6), 10), 'too_long', '12 bytes in 6 characters');
    assert.equal(validateTopic('😀'.repeat(3), 11), 'too_long', '12 bytes');
    assert.equal(validateTopic('😀'.repeat(3), 12), null);
  });
});
