/**
 * The Desk's stylesheet, adopted by the document as a constructed sheet: the page's strict
 * Content-Security-Policy allows no inline style, and a constructed sheet needs no exception.
 * Colours meet WCAG AA contrast in both schemes.
 */
export const STYLES = `
:root {
  --bg: #ffffff; --fg: #111827; --muted: #4b5563; --panel: #f3f4f6; --line: #d1d5db; --accent: #1d4ed8;
  --on-accent: #ffffff; --theirs: #e5e7eb; --mine: #1d4ed8; --on-mine: #ffffff; --danger: #b42318; --badge: #b42318;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111318; --fg: #f3f4f6; --muted: #b6bcc6; --panel: #1b1e25; --line: #3b414c; --accent: #93b4ff;
    --on-accent: #0b1020; --theirs: #2a2f38; --mine: #2b4fb3; --on-mine: #ffffff; --danger: #ff8a80; --badge: #ff8a80;
  }
}
* { box-sizing: border-box; }
html, body { height: 100%; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
[hidden] { display: none !important; }
button, input, select, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
svg { width: 20px; height: 20px; fill: currentColor; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.desk { display: grid; grid-template-rows: auto 1fr; height: 100vh; height: 100dvh; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; padding: 8px 12px; border-bottom: 1px solid var(--line); background: var(--panel); }
.top h1 { font-size: 17px; margin: 0 8px 0 0; }
.connection { font-size: 13px; color: var(--danger); }
.top .who { margin-left: auto; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
select, input[type=search], input[type=text] { border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; background: var(--bg); min-width: 0; }
.button { border: 1px solid var(--line); border-radius: 6px; padding: 5px 10px; background: var(--bg); }
.button.primary { background: var(--accent); color: var(--on-accent); border-color: var(--accent); }
.panes { display: grid; grid-template-columns: minmax(260px, 340px) minmax(0, 1fr) minmax(220px, 280px); min-height: 0; }
.sidebar { display: flex; flex-direction: column; min-height: 0; border-right: 1px solid var(--line); }
.filters { display: flex; flex-wrap: wrap; gap: 6px; padding: 8px; border-bottom: 1px solid var(--line); }
.filters > * { flex: 1 1 auto; }
.filters form { display: flex; gap: 6px; flex-basis: 100%; }
.filters form input { flex: 1; }
.filters label.check { display: flex; align-items: center; gap: 4px; flex: 0 0 auto; }
.scroll { flex: 1; overflow-y: auto; min-height: 0; }
.list { list-style: none; margin: 0; padding: 0; }
.list li { border-bottom: 1px solid var(--line); }
.entry { display: grid; grid-template-columns: 1fr auto; gap: 2px 8px; width: 100%; text-align: left; border: 0; background: transparent; padding: 10px 12px; }
.entry[aria-current=true] { background: var(--panel); box-shadow: inset 4px 0 0 var(--accent); }
.entry .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.entry .preview { grid-column: 1 / -1; color: var(--muted); font-size: 13px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.entry .when { color: var(--muted); font-size: 12px; }
.entry .tags { grid-column: 1 / -1; display: flex; gap: 6px; font-size: 12px; color: var(--muted); }
.badge { display: inline-block; min-width: 20px; padding: 0 6px; border-radius: 10px; background: var(--badge); color: var(--bg); font-size: 12px; font-weight: 700; text-align: center; }
.more { display: block; margin: 10px auto; }
.empty, .note { color: var(--muted); padding: 12px; margin: 0; }
.conversation { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
.conversation-head { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; padding: 8px 12px; border-bottom: 1px solid var(--line); }
.conversation-head h2 { font-size: 16px; margin: 0; flex: 1 1 auto; overflow-wrap: anywhere; }
.back, .profile-toggle { display: none; }
.log { list-style: none; margin: 0; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.msg { display: flex; flex-direction: column; align-items: flex-start; max-width: 80%; }
.msg.mine { align-self: flex-end; align-items: flex-end; }
.author { font-size: 12px; color: var(--muted); margin: 0 4px 2px; }
.bubble { padding: 8px 12px; border-radius: 14px; background: var(--theirs); white-space: pre-wrap; overflow-wrap: anywhere; }
.mine .bubble { background: var(--mine); color: var(--on-mine); }
.bubble a { color: inherit; }
.bubble img { display: block; max-width: 100%; max-height: 260px; border-radius: 10px; }
.time { font-size: 12px; color: var(--muted); margin: 2px 4px 0; }
.actions { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.action { border: 1px solid var(--line); border-radius: 8px; padding: 3px 10px; font-size: 13px; background: var(--bg); color: var(--fg); text-decoration: none; }
.typing { min-height: 22px; padding: 0 14px; font-size: 13px; color: var(--muted); }
.composer { display: flex; align-items: flex-end; gap: 6px; padding: 8px 10px; border-top: 1px solid var(--line); }
.composer textarea { flex: 1; resize: none; min-height: 40px; max-height: 160px; border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; background: var(--bg); }
.icon-button { display: inline-grid; place-items: center; border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: var(--bg); line-height: 0; }
.file-label { cursor: pointer; }
.file-label:focus-within { outline: 3px solid var(--accent); outline-offset: 2px; }
.error { color: var(--danger); padding: 0 12px; margin: 4px 0; }
.profile { border-left: 1px solid var(--line); padding: 12px; overflow-y: auto; min-height: 0; }
.profile h2, .profile h3 { font-size: 15px; margin: 0 0 8px; }
.profile h3 { margin-top: 16px; font-size: 14px; }
.profile dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 4px 10px; font-size: 13px; }
.profile dt { color: var(--muted); }
.profile dd { margin: 0; overflow-wrap: anywhere; }
.device { border-top: 1px solid var(--line); padding-top: 8px; margin-top: 8px; }
.placeholder { display: grid; place-items: center; flex: 1; color: var(--muted); padding: 24px; text-align: center; }
@media (max-width: 1000px) {
  .panes { grid-template-columns: minmax(240px, 320px) minmax(0, 1fr); }
  .profile { display: none; }
  .profile-toggle { display: inline-block; }
  .desk[data-profile] .profile { display: block; grid-column: 2; grid-row: 1; border-left: 0; }
  .desk[data-profile] .conversation { display: none; }
}
@media (max-width: 640px) {
  .panes { grid-template-columns: minmax(0, 1fr); }
  .sidebar { border-right: 0; }
  .desk[data-view=conversation] .sidebar { display: none; }
  .desk:not([data-view=conversation]) .conversation, .desk:not([data-view=conversation]) .profile { display: none; }
  .desk[data-profile] .profile { grid-column: 1; }
  .back { display: inline-block; }
  .msg { max-width: 92%; }
  .connection { font-size: 13px; color: var(--danger); }
.top .who { display: none; }
}
`;
