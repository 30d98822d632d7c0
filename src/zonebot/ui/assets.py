"""The page's styling and the little JavaScript it needs (no server round trip for copy, export, scrolling)."""

from __future__ import annotations

import gradio as gr

#: The chat's height: what is left of a laptop screen (1366x900) under the header, with the question box, the
#: tools and a feedback note still in view; never shorter than 300px or taller than 600px.
CHAT_HEIGHT = "clamp(300px, calc(100vh - 480px), 600px)"

CSS = """
#zb-header { align-items: flex-end; gap: 8px; }
.zb-brand h1 { margin: 0; font-size: 1.5rem; letter-spacing: -0.01em; }
.zb-brand p { margin: 2px 0 0; color: var(--body-text-color-subdued); }
.zb-index { text-align: right; color: var(--body-text-color-subdued); font-size: 0.85rem; }
.zb-h2 { margin: 0 0 6px; font-size: 1.05rem; }
#zb-sources { max-height: 640px; overflow-y: auto; overflow-x: hidden; }
.zb-src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  margin-bottom: 10px; background: var(--block-background-fill); scroll-margin: 12px; cursor: pointer; }
.zb-src header { display: flex; gap: 8px; align-items: baseline; font-weight: 600; }
.zb-n { flex: none; min-width: 1.6em; text-align: center; border-radius: 4px; padding: 0 4px;
  background: var(--color-accent-soft); color: var(--color-accent); font-size: 0.85rem; }
.zb-meta, .zb-where { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 2px; overflow-wrap: anywhere; }
.zb-passage { margin: 8px 0 0; padding: 0 0 0 10px; border-left: 3px solid var(--border-color-primary);
  font-size: 0.9rem; line-height: 1.5; overflow-wrap: anywhere; }
/* The highlight sets its own dark text: "inherit" gave light text on yellow in dark mode. */
.zb-passage mark { background: #fde68a; color: #1c1917; padding: 0 1px; border-radius: 2px; }
.dark .zb-passage mark { background: #fcd34d; color: #111827; }
.zb-sup { color: var(--color-accent); font-weight: 600; margin: 0 2px 0 1px; }
.zb-src.zb-flash { outline: 2px solid var(--color-accent); animation: zb-flash 1.2s ease-out; }
@keyframes zb-flash { from { background: var(--color-accent-soft); } }
.zb-near { cursor: default; opacity: 0.9; }
.zb-more summary { cursor: pointer; color: var(--body-text-color-subdued); font-size: 0.85rem; margin: 4px 0 8px; }
.zb-quotes { list-style: none; margin: 6px 0 0; padding: 0; font-size: 0.75rem; color: var(--body-text-color-subdued); }
.zb-quotes li { display: inline-block; margin-right: 10px; }
.zb-src header .zb-n + .zb-n { margin-left: -4px; }
.zb-foot { font-size: 0.75rem; color: var(--body-text-color-subdued); margin-top: 4px; }
.zb-empty { color: var(--body-text-color-subdued); font-size: 0.9rem; padding: 8px 0; }
.zb-abstain { border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.08); padding: 6px 10px; border-radius: 4px; }
.zb-abstain-note { font-weight: 600; color: #b45309; margin-bottom: 8px; }
.dark .zb-abstain-note { color: #fbbf24; }
.zb-problem { border-left: 4px solid #dc2626; background: rgba(220, 38, 38, 0.07); padding: 6px 10px; border-radius: 4px; }
.zb-user { white-space: pre-wrap; overflow-wrap: anywhere; }
#zb-chat a.zb-marker { text-decoration: none; font-weight: 600; font-size: 0.85em; }
#zb-tools { justify-content: flex-start; align-items: center; gap: 6px; flex-wrap: wrap; }
#zb-tools button { flex: 0 0 auto; }
#zb-counter-box { flex: 1 1 100%; order: -1; min-height: 0; }
#zb-counter { font-size: 0.8rem; color: var(--body-text-color-subdued); margin: 0 0 0 4px; }
#zb-counter:empty { display: none; }
#zb-counter-box:has(#zb-counter:empty) { display: none; }
#zb-counter.zb-over { color: #dc2626; font-weight: 600; }
.dark #zb-counter.zb-over { color: #f87171; }
.zb-inline { flex: 0 0 auto !important; width: auto !important; min-width: 0 !important; align-self: center; }
.zb-scope-label { font-size: 0.85rem; font-weight: 600; white-space: nowrap; }
#zb-scope { flex: 1 1 160px; }
/* Compact: on a laptop screen (1366x900) the examples and a feedback note stay in view under the chat. */
#zb-chat-col { gap: 8px; }
#zb-header { padding-bottom: 0; }
.zb-brand { display: flex; align-items: baseline; gap: 4px 14px; flex-wrap: wrap; }
#zb-header > :first-child { flex: 3 1 0% !important; }
/* Gradio's own trash button duplicated "New chat" (and kept no saved chat in step). */
#zb-chat .icon-button-wrapper.top-panel { display: none !important; }
.zb-scope-hint { font-size: 0.78rem; color: var(--body-text-color-subdued); white-space: nowrap; }
#zb-chats { margin-bottom: 4px; }
.zb-phone-only { display: none !important; }
.zb-doc-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; }
/* Cards wrap only between words: a broken word is what made the old table unreadable on a phone. */
.zb-doc { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  background: var(--block-background-fill); overflow-wrap: normal; word-break: normal; hyphens: none; min-width: 0; }
.zb-doc .zb-meta { overflow-wrap: normal; }
.zb-doc[data-source] { cursor: pointer; }
.zb-doc[data-source]:hover, .zb-doc[data-source]:focus-visible { border-color: var(--color-accent); }
.zb-doc.zb-skipped { border-style: dashed; opacity: 0.85; }
#zb-corpus-status { min-height: 56px; margin-bottom: 24px; }  /* room for the progress bar above the footer */
.zb-doc-title { margin: 0 0 4px; font-size: 1rem; }
.zb-doc-file { font-family: var(--font-mono); font-size: 0.78rem; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; margin-top: 4px; }
.zb-doc-counts { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 2px; }
#zb-corpus-status .zb-ok { color: inherit; }
#zb-corpus-status .zb-problem, #zb-corpus-status .zb-ok { margin: 4px 0; white-space: pre-wrap; }
.zb-ok { border-left: 4px solid #16a34a; background: rgba(22, 163, 74, 0.08); padding: 6px 10px; border-radius: 4px; }
footer .divider, footer > div > .divider { display: none; }
@media (max-width: 640px) {
  .gradio-container { padding: 6px !important; }
  #zb-header { flex-direction: column; align-items: flex-start; }
  .zb-index { text-align: left; }
  #zb-chat { height: 420px !important; }
  #zb-sources { max-height: none; }
  .zb-phone-only { display: inline-flex !important; }
  .zb-doc-grid { grid-template-columns: 1fr; }
  .zb-scope-hint { display: none; }
  .zb-doc { padding: 8px 10px; }
  .zb-doc-file { font-family: inherit; font-size: 0.8rem; }
}
"""

#: Behaviour added to the page once: marker and card clicks, the character counter, and screen-reader
#: labels made from a message's text (Gradio puts the raw message markup in ``aria-label``).
HEAD = """
<script>
(() => {
  if (window.__zonebot) return;
  window.__zonebot = true;
  function show(id) {
    const target = document.getElementById(id);
    const el = target && (target.closest(".zb-src") || target);
    if (!el) return;
    const turn = el.closest(".zb-turn");
    document.querySelectorAll("#zb-sources .zb-turn").forEach((s) => { s.hidden = s !== turn; });
    el.scrollIntoView({ behavior: "smooth", block: "nearest" });
    el.classList.remove("zb-flash");
    void el.offsetWidth;
    el.classList.add("zb-flash");
    el.focus({ preventScroll: true });
  }
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest && ev.target.closest('a[href^="#src-"]');
    if (link) {
      ev.preventDefault();
      ev.stopPropagation();
      show(link.getAttribute("href").slice(1));
      return;
    }
    const card = ev.target.closest && ev.target.closest(".zb-src[id^='src-']");
    if (card && !ev.target.closest("a")) show(card.id);
  }, true);
  document.addEventListener("input", (ev) => {
    if (!ev.target.closest || !ev.target.closest("#zb-question")) return;
    const counter = document.getElementById("zb-counter");
    if (!counter) return;
    const limit = Number(counter.dataset.limit), n = ev.target.value.length;
    counter.textContent = n > limit * 0.8 ? `${n.toLocaleString()} / ${limit.toLocaleString()} characters` +
      (n > limit ? ": too long, please shorten it" : "") : "";
    counter.classList.toggle("zb-over", n > limit);
  });
  const LABEL = "'s message: ";
  function relabel() {
    document.querySelectorAll('#zb-chat [aria-label*="' + LABEL + '"]').forEach((el) => {
      const old = el.getAttribute("aria-label");
      const label = old.slice(0, old.indexOf(LABEL) + LABEL.length) + el.textContent.replace(/\\s+/g, " ").trim();
      if (old !== label) el.setAttribute("aria-label", label);
    });
  }
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; relabel(); });
  }).observe(document.documentElement, { subtree: true, childList: true, characterData: true,
                                          attributes: true, attributeFilter: ["aria-label"] });
})();
</script>
"""

COPY_JS = """
async () => {
  const latest = [...document.querySelectorAll("#zb-sources .zb-turn")].pop();
  const button = document.querySelector("#zb-copy");
  const text = latest ? latest.querySelector(".zb-copytext").value : "";
  const say = (words) => { if (button) { const old = button.textContent; button.textContent = words;
    setTimeout(() => { button.textContent = old; }, 1500); } };
  if (!text) { say("Nothing to copy"); return; }
  try { await navigator.clipboard.writeText(text); }
  catch (e) {
    const area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand("copy"); area.remove();
  }
  say("Copied ✓");
}
"""

EXPORT_JS = """
() => {
  const area = document.querySelector("#zb-export-text");
  const blob = new Blob([area ? area.value : ""], { type: "text/markdown;charset=utf-8" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "zonebot-conversation.md";
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 5000);
}
"""

TO_SOURCES_JS = "() => document.getElementById('zb-sources-col').scrollIntoView({block: 'start'})"
TO_CHAT_JS = "() => document.getElementById('zb-chat-col').scrollIntoView({block: 'start'})"

# System fonts: the stock themes fetch Google Fonts, which an offline or private deployment should not.
THEME = gr.themes.Soft(
    primary_hue="blue",
    neutral_hue="slate",
    font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"),
    font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"),
)
