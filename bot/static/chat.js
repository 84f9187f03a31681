// The buyer's web chat. Plain DOM, no framework: messages arrive live over
// Server-Sent Events (one stream per order), sends are retried until the
// server took them, every word comes from /chat/words/<language>.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const store = window.localStorage;
  const S = {session: store.getItem("buyerbot.session"), order: store.getItem("buyerbot.order"),
             lang: store.getItem("buyerbot.language") || (navigator.language || "en").slice(0, 2),
             words: {}, orders: [], limits: {}, others: 0, stream: null, live: 0, withPerson: false, pending: [], typingTimer: 0};
  const w = (key, vars) => {
    let text = key.split(".").reduce((o, k) => (o && o[k] !== undefined ? o[k] : undefined), S.words);
    if (typeof text !== "string") text = key.startsWith("errors.") ? w("errors.server") : "";
    for (const [k, v] of Object.entries(vars || {})) text = text.replace(`{${k}}`, v);
    return text;
  };

  async function loadWords(lang) {
    try {
      const response = await fetch(`/chat/words/${encodeURIComponent(lang)}`);
      if (response.ok) S.words = await response.json();
    } catch (e) { /* keep the words we have */ }
    S.lang = ["en", "ru", "es", "pt", "fr"].includes(lang) ? lang : "en";
    store.setItem("buyerbot.language", S.lang);
    document.documentElement.lang = S.lang;
    document.title = w("title");
    for (const el of document.querySelectorAll("[data-w]")) el.textContent = w(el.dataset.w);
    for (const el of document.querySelectorAll("[data-wp]")) el.placeholder = w(el.dataset.wp);
    $("file").setAttribute("aria-label", w("attach"));
  }

  class HttpError extends Error {
    constructor(status, code) { super(code); this.status = status; this.code = code; }
  }
  async function call(path, options) {
    let response;
    try { response = await fetch(path, options); } catch (e) { throw new HttpError(0, "network"); }
    let body = {};
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const detail = body && body.detail;
      const code = typeof detail === "string" ? detail : (detail && detail.code) || (response.status >= 500 ? "server" : "bad_request");
      throw new HttpError(response.status, code);
    }
    return body;
  }
  const post = (path, data) => call(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(data)});
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

  function say(message) { $("status").textContent = message; $("status").hidden = !message; }

  // -- screens --------------------------------------------------------------
  function showBind(error) {
    closeStream();
    $("bind").hidden = false;
    $("log").hidden = $("send-form").hidden = $("order-line").hidden = $("switch").hidden = true;
    $("banner").hidden = $("typing").hidden = true;
    say(error ? w(`errors.${error}`) : "");
    $("token").focus();
  }

  function showChat() {
    $("bind").hidden = true;
    $("log").hidden = $("send-form").hidden = false;
    say("");
  }

  // -- orders and the header -----------------------------------------------
  async function loadOrders() {
    const result = await call(`/chat/api/orders?session=${encodeURIComponent(S.session)}`);
    S.orders = result.orders;
    S.limits = result.limits;
    if (!S.orders.some((o) => o.order_id === S.order)) S.order = S.orders[0].order_id;
    const select = $("orders");
    select.replaceChildren(...S.orders.map((o) => {
      const option = document.createElement("option");
      option.value = o.order_id;
      option.textContent = `${w("order", {id: o.order_id})} · ${o.item}`;
      option.selected = o.order_id === S.order;
      return option;
    }));
    $("switch").hidden = S.orders.length < 2;
  }

  function money(amount, currency) {
    try { return new Intl.NumberFormat(S.lang, {style: "currency", currency}).format(Number(amount)); }
    catch (e) { return `${amount} ${currency}`; }
  }

  function header(state) {
    $("store").textContent = state.store || w("store");
    if (!state.order_id) return;
    $("order-line").hidden = false;
    const more = state.more_items ? ` ${w("more_items", {n: state.more_items})}` : "";
    $("order-item").textContent = `${w("order", {id: state.order_id})}: ${state.item}${more}`;
    $("order-total").textContent = `${w("total")} ${money(state.total, state.currency)}`;
    const status = w(`status.${state.status}`);
    $("order-status").textContent = status;
    $("order-status").hidden = !status;
  }

  // -- the live stream -------------------------------------------------------
  function closeStream() { if (S.stream) { S.stream.close(); S.stream = null; } }

  function openStream() {
    closeStream();
    $("log").replaceChildren();
    S.pending = [];
    const url = `/chat/api/stream?session=${encodeURIComponent(S.session)}&order=${encodeURIComponent(S.order)}`;
    const stream = new EventSource(url);
    S.stream = stream;
    stream.addEventListener("message", (event) => show(JSON.parse(event.data)));
    stream.addEventListener("state", (event) => applyState(JSON.parse(event.data)));
    stream.onopen = () => { if ($("banner").dataset.offline) { $("banner").hidden = true; delete $("banner").dataset.offline; } };
    stream.onerror = () => {
      if (stream.readyState === EventSource.CLOSED) { recheck(); return; }
      $("banner").textContent = w("offline"); $("banner").dataset.offline = "1"; $("banner").hidden = false;
    };
  }

  async function recheck() {  // the stream was refused: the session or the order is gone
    try { await loadOrders(); openStream(); }
    catch (e) { if (e.status === 404 || e.status === 422) { forget(); showBind("unknown_session"); } else setTimeout(recheck, 3000); }
  }

  function forget() { S.session = null; store.removeItem("buyerbot.session"); store.removeItem("buyerbot.order"); }

  function applyState(state) {
    header(state);
    S.live = state.live;
    S.withPerson = state.with_person;
    if (state.language && state.language !== S.lang) loadWords(state.language).then(() => header(state));
    if (!$("banner").dataset.offline) { $("banner").textContent = state.with_person ? w("with_person") : ""; $("banner").hidden = !state.with_person; }
    for (const item of $("log").querySelectorAll(".msg[data-seq]")) setButtons(item);
  }

  // -- messages --------------------------------------------------------------
  const LINK = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])/g;
  function linkify(node, text) {
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      node.append(text.slice(last, match.index));
      const a = document.createElement("a");
      a.href = match[0]; a.textContent = match[0]; a.target = "_blank"; a.rel = "noopener noreferrer";
      node.append(a);
      last = match.index + match[0].length;
    }
    node.append(text.slice(last));
  }

  function when(at) {
    const date = new Date(at);
    const sameDay = date.toDateString() === new Date().toDateString();
    const options = sameDay ? {hour: "2-digit", minute: "2-digit"} : {day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"};
    const time = document.createElement("time");
    time.className = "meta"; time.dateTime = at; time.textContent = date.toLocaleString(S.lang, options);
    return time;
  }

  function bubble(author, name) {
    const item = document.createElement("li");
    item.className = `msg ${author}`;
    const who = document.createElement("div");
    who.className = author === "buyer" ? "who sr" : "who";
    who.textContent = author === "agent" ? (name ? `${name} · ${w("team")}` : w("team_only")) : author === "bot" ? w("assistant") : w("you");
    item.append(who);
    return item;
  }

  function show(m) {
    if ($("log").querySelector(`[data-seq="${m.seq}"]`)) return;
    if (m.author === "buyer") settlePending(m); else { S.others += 1; hideTyping(); }
    const item = bubble(m.author, m.name);
    item.dataset.seq = m.seq;
    if (m.text) { const text = document.createElement("div"); text.className = "text"; linkify(text, m.text); item.append(text); }
    for (const file of m.media) {
      const box = document.createElement("div"); box.className = "media";
      const el = document.createElement(file.kind === "video" ? "video" : "img");
      el.src = file.url;
      if (file.kind === "video") { el.controls = true; el.preload = "metadata"; el.setAttribute("aria-label", w("video")); } else el.alt = w("photo");
      box.append(el); item.append(box);
    }
    if (m.buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons"; row.setAttribute("role", "group"); row.setAttribute("aria-label", w("choices"));
      for (const b of m.buttons) {
        const el = document.createElement(b.url ? "a" : "button");
        el.textContent = b.label;
        if (b.url) { el.href = b.url; el.target = "_blank"; el.rel = "noopener noreferrer"; }
        else { el.type = "button"; el.dataset.data = b.data; el.setAttribute("aria-pressed", "false"); el.addEventListener("click", () => press(item, el, b)); }
        row.append(el);
      }
      item.append(row);
    }
    if (m.pressed) markPressed(m.pressed);
    item.append(when(m.at));
    $("log").append(item);
    setButtons(item);
    $("log").scrollTop = $("log").scrollHeight;
  }

  function markPressed(pressed) {
    const items = [...$("log").querySelectorAll(".msg[data-seq]")].reverse();
    for (const item of items) {
      const hit = [...item.querySelectorAll("button[data-data]")].find((b) => b.dataset.data.startsWith(`${pressed}:`));
      if (hit) { item.dataset.pressed = hit.dataset.data; setButtons(item); return; }
    }
  }

  function setButtons(item) {
    const live = Number(item.dataset.seq) === S.live && !item.dataset.pressed && !item.dataset.sending;
    for (const b of item.querySelectorAll("button[data-data]")) {
      const chosen = b.dataset.data === (item.dataset.pressed || item.dataset.sending);
      b.setAttribute("aria-pressed", String(chosen));
      b.disabled = !live;
      if (chosen) b.setAttribute("aria-label", `${b.textContent} (${w("pressed")})`); else b.removeAttribute("aria-label");
    }
  }

  // -- sending: text, presses and files, each retried until taken ------------------
  function press(item, el, button) {
    item.dataset.sending = button.data;
    setButtons(item);
    queue({kind: "press", label: button.label, body: {data: button.data}, item});
  }

  function queue(job) {
    job.order = S.order; job.client_id = newId(); job.attempt = 0; job.othersBefore = S.others;
    job.node = bubble("buyer");
    job.node.classList.add("pending");
    if (job.kind === "file") job.node.append(Object.assign(document.createElement("div"), {className: "text", textContent: `${w(job.file.type.startsWith("video/") ? "video" : "photo")}: ${job.file.name}`}));
    else { const text = document.createElement("div"); text.className = "text"; linkify(text, job.kind === "press" ? job.label : job.body.text); job.node.append(text); }
    job.state = document.createElement("span"); job.state.className = "meta"; job.state.textContent = w("sending");
    job.node.append(job.state);
    $("log").append(job.node);
    $("log").scrollTop = $("log").scrollHeight;
    S.pending.push(job);
    attempt(job);
  }

  async function attempt(job) {
    job.attempt += 1;
    delete job.failedFor;
    job.state.className = "meta"; job.state.textContent = w("sending");
    try {
      if (job.kind === "file") {
        const query = `session=${encodeURIComponent(S.session)}&order=${encodeURIComponent(job.order)}`;
        await call(`/chat/api/upload?${query}`, {method: "POST", headers: {"Content-Type": "application/octet-stream"}, body: job.file});
      } else {
        await post("/chat/api/messages", {session: S.session, order: job.order, client_id: job.client_id, ...job.body});
      }
      job.sent = true;
      job.state.textContent = w("sent");
      if (S.others === job.othersBefore) showTyping();  // no answer yet
    } catch (e) {
      const retry = e.status === 0 || e.status >= 500 || e.status === 429;
      failed(job, e.code, retry);
    }
  }

  function failed(job, code, retry) {
    job.failedFor = code;
    job.state.className = "fail";
    job.state.textContent = `${w("not_sent")} ${w(`errors.${code}`, S.limits)}`;
    if (job.item) { delete job.item.dataset.sending; setButtons(job.item); }
    if (!retry) { S.pending = S.pending.filter((p) => p !== job); return; }
    const delay = Math.min(2 ** job.attempt, 30);
    const again = document.createElement("button");
    again.type = "button"; again.textContent = w("retry");
    again.addEventListener("click", () => { clearTimeout(job.timer); again.remove(); attempt(job); });
    job.state.append(" ", w("retrying", {s: delay}), again);
    job.timer = setTimeout(() => { again.remove(); attempt(job); }, delay * 1000);
  }

  function settlePending(m) {
    // the server's copy may come before the answer to the send itself
    const index = S.pending.findIndex((job) => job.order === S.order && !job.failedFor &&
      (job.kind === "file" ? m.media.length > 0 : job.kind === "press" ? Boolean(m.pressed) : m.text === job.body.text));
    if (index < 0) return;
    const [job] = S.pending.splice(index, 1);
    job.node.remove();
  }

  function showTyping() {
    $("typing").textContent = S.withPerson ? w("sent_to_team") : w("typing");
    $("typing").hidden = false;
    clearTimeout(S.typingTimer);
    S.typingTimer = setTimeout(hideTyping, 15000);
  }
  function hideTyping() { $("typing").hidden = true; clearTimeout(S.typingTimer); }

  // -- wiring ------------------------------------------------------------------
  async function start(order) {
    S.order = order || S.order;
    await loadOrders();
    store.setItem("buyerbot.order", S.order);
    showChat();
    openStream();
  }

  async function bind(token) {
    const result = await post("/chat/api/bind", {token, ...(S.session ? {session: S.session} : {})});
    S.session = result.session;
    store.setItem("buyerbot.session", S.session);
    if (result.language !== S.lang) await loadWords(result.language);
    await start(result.order_id);
  }

  function wire() {
    $("bind-form").addEventListener("submit", (event) => {
      event.preventDefault();
      bind($("token").value.trim()).catch((e) => showBind(e.code === "not_found" ? "invalid_link" : e.code));
    });
    $("send-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("text").value.trim();
      if (!text) return;
      queue({kind: "text", body: {text}});
      $("text").value = "";
      $("text").focus();
    });
    $("text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); $("send-form").requestSubmit(); }
    });
    $("attach").addEventListener("click", () => $("file").click());
    $("file").addEventListener("change", () => {
      for (const file of $("file").files) queue({kind: "file", file});
      $("file").value = "";
    });
    $("orders").addEventListener("change", () => { hideTyping(); start($("orders").value).catch(() => recheck()); });
  }

  async function main() {
    wire();
    await loadWords(S.lang);
    const params = new URLSearchParams(location.search);
    const token = params.get("t");
    if (token) {
      history.replaceState(null, "", location.pathname);  // the link's code leaves the address bar
      try { await bind(token); } catch (e) { showBind(e.code === "not_found" ? "invalid_link" : e.code); }
    } else if (S.session) {
      try { await start(); } catch (e) { if (e.status === 404 || e.status === 422) { forget(); showBind(); } else showBind(e.code); }
    } else showBind();
  }
  main();
})();
