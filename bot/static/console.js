// The console's only script (served by the bot; no inline script anywhere):
// live updates over server-sent events, and the transcript opened at its end.
"use strict";

function scrollToNewest() {
  const transcript = document.querySelector(".transcript");
  if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
}

async function refreshLive() {
  const response = await fetch(window.location.href, {credentials: "same-origin"});
  if (!response.ok) { return; }
  const html = await response.text();
  const fresh = new DOMParser().parseFromString(html, "text/html");
  for (const id of ["live", "ownership", "order", "dialog", "evidence", "deadlines", "unread-total"]) {
    const mine = document.getElementById(id);
    const theirs = fresh.getElementById(id);
    if (mine && theirs) { mine.replaceWith(theirs); }
  }
  scrollToNewest();
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || "0") + 1);
}

function listen() {
  const kind = document.body.dataset.live;
  if (!kind || !window.EventSource) { return; }
  const watched = document.body.dataset.conversation;
  const source = new EventSource("/console/live");
  let pending = null;
  source.addEventListener("changed", (event) => {
    if (kind === "conversation" && event.data !== watched) { return; }
    clearTimeout(pending);
    pending = setTimeout(refreshLive, 150);
  });
  source.addEventListener("open", () => { document.body.dataset.liveReady = "1"; });
}

document.addEventListener("DOMContentLoaded", () => {
  scrollToNewest();
  listen();
});
