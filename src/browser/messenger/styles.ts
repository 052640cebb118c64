/**
 * The messenger's stylesheet, adopted by its shadow root as a constructed sheet: the host page's
 * CSS does not reach inside, this does not leak out, and a strict `style-src` needs no exception.
 * Colours from the app come in as custom properties set on the host.
 */
export const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; }
.root {
  --bg: #ffffff; --fg: #111111; --muted: #4b5563; --theirs: #eef0f3; --line: #d1d5db; --danger: #b42318;
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
  font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
}
@media (prefers-color-scheme: dark) {
  .root { --bg: #17191e; --fg: #f3f4f6; --muted: #b6bcc6; --theirs: #2a2f38; --line: #3b414c; --danger: #ff8a80; }
}
button { font: inherit; cursor: pointer; }
button:focus-visible, a:focus-visible, textarea:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
svg { width: 22px; height: 22px; fill: currentColor; }
.launcher {
  position: relative; width: 60px; height: 60px; border-radius: 50%; border: 0; margin-left: auto; display: block;
  background: var(--accent); color: var(--on-accent); box-shadow: 0 4px 14px rgba(0,0,0,.25);
}
.launcher svg { width: 28px; height: 28px; }
.badge {
  position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px;
  background: #b42318; color: #ffffff; font-size: 12px; font-weight: 700; line-height: 22px; text-align: center;
}
.panel {
  display: flex; flex-direction: column; width: 370px; height: min(620px, calc(100vh - 120px)); margin-bottom: 14px;
  background: var(--bg); border-radius: 14px; overflow: hidden; box-shadow: 0 10px 40px rgba(0,0,0,.3);
}
[hidden] { display: none !important; }
.header { display: flex; align-items: center; gap: 10px; padding: 14px 16px; background: var(--brand); color: var(--on-brand); }
.header img, .header .logo { width: 36px; height: 36px; border-radius: 50%; flex: none; }
.header .logo { display: grid; place-items: center; background: var(--on-brand); color: var(--brand); }
.header h2 { margin: 0; font-size: 16px; }
.header p { margin: 0; font-size: 13px; }
.header .titles { flex: 1; min-width: 0; }
.icon-button { border: 0; background: transparent; color: inherit; padding: 6px; border-radius: 8px; line-height: 0; }
.status { padding: 6px 16px; font-size: 13px; background: #fff4d6; color: #5c3d00; }
.scroller { flex: 1; overflow-y: auto; padding: 12px 14px; }
.older { display: block; margin: 0 auto 10px; border: 1px solid var(--line); background: transparent; color: var(--fg); border-radius: 14px; padding: 4px 12px; font-size: 13px; }
.intro { color: var(--muted); text-align: center; font-size: 13px; margin: 4px 0 12px; }
.log { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.msg { display: flex; flex-direction: column; align-items: flex-start; max-width: 82%; }
.msg.mine { align-self: flex-end; align-items: flex-end; }
.author { font-size: 12px; color: var(--muted); margin: 6px 0 2px 4px; }
.bubble { padding: 8px 12px; border-radius: 16px; background: var(--theirs); color: var(--fg); white-space: pre-wrap; overflow-wrap: anywhere; }
.mine .bubble { background: var(--accent); color: var(--on-accent); }
.bubble.picture { padding: 3px; background: transparent; }
.bubble img { display: block; max-width: 100%; max-height: 240px; border-radius: 13px; }
.pending .bubble { opacity: .75; }
.failed .bubble { opacity: 1; outline: 2px solid var(--danger); }
.meta { font-size: 12px; color: var(--muted); margin: 2px 4px; }
.failed .meta { color: var(--danger); }
.meta button { border: 0; background: none; color: inherit; text-decoration: underline; padding: 0 0 0 4px; }
progress { width: 120px; height: 6px; accent-color: var(--accent); }
.actions { display: flex; flex-direction: column; gap: 4px; margin-top: 4px; width: 100%; }
.bubble a { color: inherit; text-decoration: underline; }
.time { font-size: 12px; color: var(--muted); margin: 2px 4px; }
.msg:not(:hover):not(:focus-within) .time { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.msg:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 8px; }
.offer { background: transparent; color: var(--fg); border: 1px dashed var(--line); }
.action { display: block; text-align: center; text-decoration: none; border: 0; border-radius: 10px; padding: 7px 12px; background: var(--accent); color: var(--on-accent); font-size: 14px; }
.replies { display: flex; flex-wrap: wrap; gap: 6px; justify-content: flex-end; padding: 0 14px 8px; }
.chip { border: 2px solid var(--accent); background: var(--bg); color: var(--fg); border-radius: 16px; padding: 4px 12px; font-size: 14px; }
.typing { min-height: 20px; font-size: 13px; color: var(--muted); padding: 4px 4px 0; }
.composer { display: flex; align-items: flex-end; gap: 6px; padding: 10px; border-top: 1px solid var(--line); }
.composer textarea {
  flex: 1; resize: none; max-height: 120px; border: 1px solid var(--line); border-radius: 18px; padding: 8px 12px;
  font: inherit; color: var(--fg); background: var(--bg);
}
.composer textarea::placeholder { color: var(--muted); }
.composer .icon-button { color: var(--muted); padding: 8px; }
.composer .send { color: var(--accent); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (prefers-color-scheme: dark) { .composer .send { color: var(--fg); } }
@media (max-width: 600px) {
  .root[data-open] { inset: 0; }
  .root[data-open] .panel { width: 100%; height: 100%; margin: 0; border-radius: 0; }
  .root[data-open] .launcher { display: none; }
}
`;
