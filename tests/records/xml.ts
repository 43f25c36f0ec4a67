/**
 * A strict XML well-formedness check (enough for SVG): one root element, tags
 * nested and matched, attributes quoted and unique, entities known or numeric,
 * no stray '<' or '&'. Throws with the offset of the first problem.
 */
const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

export function checkXml(text: string): { root: string; elements: number } {
  let i = 0;
  const stack: string[] = [];
  let root: string | null = null;
  let elements = 0;
  const fail = (msg: string): never => {
    throw new Error(`XML not well-formed at ${i}: ${msg} (…${text.slice(Math.max(0, i - 40), i + 40)}…)`);
  };
  const text_ = (end: number) => {
    const chunk = text.slice(i, end);
    for (let k = chunk.indexOf('&'); k >= 0; k = chunk.indexOf('&', k + 1))
      if (!ENTITY.test(chunk.slice(k))) {
        i += k;
        fail('bad entity');
      }
    if (stack.length === 0 && chunk.trim() !== '') fail('text outside the root element');
    i = end;
  };
  if (text.startsWith('\uFEFF')) i = 1;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      text_(text.length);
      break;
    }
    text_(lt);
    if (text.startsWith('<?', i)) {
      const e = text.indexOf('?>', i);
      if (e < 0) fail('unclosed <?');
      i = e + 2;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const e = text.indexOf('-->', i);
      if (e < 0) fail('unclosed comment');
      i = e + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const e = text.indexOf(']]>', i);
      if (e < 0 || !stack.length) fail('bad CDATA');
      i = e + 3;
      continue;
    }
    if (text.startsWith('<!', i)) {
      if (root) fail('doctype after the root');
      const e = text.indexOf('>', i);
      i = e + 1;
      continue;
    }
    if (text.startsWith('</', i)) {
      i += 2;
      const m = NAME.exec(text.slice(i));
      if (!m) fail('bad end tag');
      const name = m![0];
      i += name.length;
      while (/\s/.test(text[i] ?? '')) i++;
      if (text[i] !== '>') fail('bad end tag');
      i++;
      if (stack.pop() !== name) fail(`end tag </${name}> does not match`);
      continue;
    }
    i++;
    const m = NAME.exec(text.slice(i));
    if (!m) fail('bad start tag');
    const name = m![0];
    i += name.length;
    if (stack.length === 0) {
      if (root) fail('a second root element');
      root = name;
    }
    elements++;
    const seen = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))![0];
      i += ws.length;
      if (text.startsWith('/>', i)) {
        i += 2;
        break;
      }
      if (text[i] === '>') {
        i++;
        stack.push(name);
        break;
      }
      if (!ws) fail('no space before an attribute');
      const a = NAME.exec(text.slice(i));
      if (!a) fail('bad attribute name');
      const attr = a![0];
      i += attr.length;
      if (seen.has(attr)) fail(`attribute ${attr} twice`);
      seen.add(attr);
      i += /^\s*/.exec(text.slice(i))![0].length;
      if (text[i] !== '=') fail('attribute without a value');
      i++;
      i += /^\s*/.exec(text.slice(i))![0].length;
      const q = text[i];
      if (q !== '"' && q !== "'") fail('unquoted attribute');
      const end = text.indexOf(q!, i + 1);
      if (end < 0) fail('unclosed attribute');
      const value = text.slice(i + 1, end);
      if (value.includes('<')) fail('< in an attribute');
      for (let k = value.indexOf('&'); k >= 0; k = value.indexOf('&', k + 1)) if (!ENTITY.test(value.slice(k))) fail('bad entity in an attribute');
      i = end + 1;
    }
  }
  if (stack.length) fail(`unclosed <${stack.at(-1)}>`);
  if (!root) fail('no root element');
  return { root: root!, elements };
}
