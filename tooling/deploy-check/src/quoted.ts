/**
 * docs/deploy.md quotes every example file verbatim: a `<!-- docs/deploy/NAME -->` marker line,
 * then a fenced block holding the file. The files are what the tools check; the quotes are what
 * readers see; {@link quotedFiles} and {@link syncQuotes} keep the two the same.
 * @module
 */

const QUOTE = /<!-- docs\/deploy\/([\w.-]+) -->\n```(\w*)\n([\s\S]*?)```\n/g;

/** The quoted files of a markdown text: name → the block's content. */
export function quotedFiles(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of markdown.matchAll(QUOTE)) out.set(m[1]!, m[3]!);
  return out;
}

/** The markdown with every quote's block replaced by the file's current content. */
export function syncQuotes(markdown: string, read: (name: string) => string): string {
  return markdown.replace(QUOTE, (_, name: string, lang: string) => {
    const content = read(name);
    return `<!-- docs/deploy/${name} -->\n\`\`\`${lang}\n${content.endsWith("\n") ? content : `${content}\n`}\`\`\`\n`;
  });
}
