import MarkdownIt from 'markdown-it';

/**
 * Safe Markdown for untrusted dataset text. Three layers:
 * 1. markdown-it with `html: false`: raw HTML in the text is escaped, never parsed as markup;
 * 2. links and images render as text (no href, no src): nothing in a response can navigate or
 *    load anything, and the CSP would block it anyway;
 * 3. the rendered HTML is parsed in an inert <template> and copied through an allow-list of
 *    tags with every attribute dropped except a code block's language class.
 */
const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: true });

md.renderer.rules.link_open = () => '<span class="link">';
md.renderer.rules.link_close = () => '</span>';
md.renderer.rules.image = (tokens, idx) => {
  const alt = tokens[idx]?.content ?? '';
  return `<span class="image">[image: ${md.utils.escapeHtml(alt)}]</span>`;
};

const ALLOWED = new Set([
  'P', 'EM', 'STRONG', 'CODE', 'PRE', 'UL', 'OL', 'LI', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6',
  'BLOCKQUOTE', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'HR', 'BR', 'DEL', 'S', 'SPAN',
]);

/** Over this many characters a response is shown as plain text (rendering cost, readability). */
const MARKDOWN_LIMIT = 200_000;

function copySafe(from: Node, to: Node, doc: Document): void {
  for (const child of Array.from(from.childNodes)) {
    if (child.nodeType === 3 /* text */) {
      to.appendChild(doc.createTextNode(child.textContent ?? ''));
    } else if (child.nodeType === 1 /* element */) {
      const el = child as Element;
      if (ALLOWED.has(el.tagName)) {
        const copy = doc.createElement(el.tagName.toLowerCase());
        const cls = el.getAttribute('class');
        if (el.tagName === 'CODE' && cls && /^language-[\w+#.-]{1,40}$/.test(cls)) copy.className = cls;
        if (el.tagName === 'SPAN' && (cls === 'link' || cls === 'image')) copy.className = cls;
        copySafe(el, copy, doc);
        to.appendChild(copy);
      } else {
        // Unknown element (cannot come from markdown-it with html:false): keep its text only.
        to.appendChild(doc.createTextNode(el.textContent ?? ''));
      }
    }
  }
}

/** Renders `text` as Markdown into `target` (replacing its children), safely. */
export function renderMarkdown(text: string, target: HTMLElement): void {
  target.replaceChildren();
  if (text.length > MARKDOWN_LIMIT) {
    const pre = document.createElement('pre');
    pre.textContent = text;
    target.appendChild(pre);
    return;
  }
  const template = document.createElement('template');
  template.innerHTML = md.render(text); // inert: a template's content never runs or loads
  copySafe(template.content, target, document);
}
