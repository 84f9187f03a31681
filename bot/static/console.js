const headers = {"X-Console": "1", "Content-Type": "application/json"};
const el = (tag, attrs = {}, text = "") => {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
  node.textContent = text;
  return node;
};
const drafts = {};

async function act(id, action, text) {
  const agent = document.getElementById("agent").value || "console";
  const response = await fetch(`/api/v1/conversations/${encodeURIComponent(id)}/${action}`, {
    method: "POST", headers, credentials: "same-origin", body: JSON.stringify({agent, text}),
  });
  document.getElementById("status").textContent = response.ok ? `${action}: sent` : `${action}: ${response.status}`;
  if (response.ok && text) { drafts[id] = ""; }
  setTimeout(load, 500);
}

function card(item) {
  const box = el("section", {class: "card" + (item.overdue ? " overdue" : "")});
  if (item.apologise) box.append(el("p", {class: "apologise"}, `Apologise first: the buyer has been waiting since ${item.handed_off}.`));
  box.append(el("h3", {}, `${item.order_id} · ${item.buyer.name || "buyer"} (${item.buyer.country || "?"}, ${item.buyer.language}) · ${item.reason}`));
  box.append(el("p", {class: "meta"}, `${item.ownership}${item.agent ? " · " + item.agent : ""} · waiting ${item.waiting_minutes} min · answer by ${item.deadline} (${item.store_tz})${item.overdue ? " · OVERDUE" : ""} · via ${item.channel}`));
  box.append(el("p", {}, `Status ${item.status} · total ${item.total} · ` + item.items.map(i => `${i.qty} × ${i.title}`).join(", ")));
  Object.entries(item.deadlines).forEach(([k, v]) => box.append(el("p", {class: "meta"}, `${k}: ${v}`)));
  const ev = item.evidence;
  if (ev.photos.length || ev.videos.length || ev.links.length) {
    box.append(el("p", {}, `Evidence: ${ev.photos.length} photo(s), ${ev.videos.length} video(s) (see the Telegram topic)`));
    ev.links.forEach(link => { const a = el("a", {href: link, target: "_blank", rel: "noopener"}, link); box.append(a, el("br")); });
  }
  box.append(el("div", {class: "msgs"}, item.messages.map(m => `[${m.at}] ${m.author}: ${m.text}`).join("\n")));
  const text = el("textarea", {placeholder: "Reply to the buyer, or a note for the team"});
  text.value = drafts[item.conversation_id] || "";
  text.addEventListener("input", () => { drafts[item.conversation_id] = text.value; });
  box.append(text);
  const buttons = [["Reply", "reply", true], ["Note", "note", true], ["Claim", "claim", false], ["Hand back", "handback", false]];
  buttons.forEach(([label, action, needsText]) => {
    const b = el("button", {}, label);
    b.addEventListener("click", () => {
      if (needsText && !text.value.trim()) return;
      act(item.conversation_id, action, needsText ? text.value : null);
    });
    box.append(b);
  });
  return box;
}

async function load() {
  if (document.activeElement && document.activeElement.tagName === "TEXTAREA") return;
  const response = await fetch("/api/v1/queue", {headers, credentials: "same-origin"});
  const root = document.getElementById("queue");
  if (!response.ok) { root.replaceChildren(el("p", {class: "empty"}, `Cannot load the queue (${response.status}).`)); return; }
  const items = await response.json();
  root.replaceChildren(...(items.length ? items.map(card) : [el("p", {class: "empty"}, "Nobody is waiting for a person.")]));
}
load();
setInterval(load, 5000);
