const log = document.getElementById("log");
let session = localStorage.getItem("buyerbot.session");
// the page's own words, in the buyer's language (messages come translated from the bot)
const WORDS = {
  en: {title: "Order chat", placeholder: "Write a message", send: "Send"},
  ru: {title: "Чат по заказу", placeholder: "Напишите сообщение", send: "Отправить"},
  es: {title: "Chat del pedido", placeholder: "Escriba un mensaje", send: "Enviar"},
  pt: {title: "Chat do pedido", placeholder: "Escreva uma mensagem", send: "Enviar"},
  fr: {title: "Discussion de la commande", placeholder: "Écrivez un message", send: "Envoyer"},
};
function speak(language) {
  const words = WORDS[language] || WORDS.en;
  document.documentElement.lang = language in WORDS ? language : "en";
  document.querySelector("header").textContent = words.title;
  document.getElementById("text").placeholder = words.placeholder;
  document.querySelector("#send-form button").textContent = words.send;
  localStorage.setItem("buyerbot.language", language);
}
let cursor = "";

async function api(path, body) {
  const response = await fetch(path, body ? {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)} : {});
  if (!response.ok) throw new Error((await response.json()).detail || response.statusText);
  return response.json();
}

function show(message) {
  const bubble = document.createElement("div");
  bubble.className = "msg " + message.author;
  bubble.textContent = message.text;  // text, never HTML
  if (message.buttons && message.buttons.length) {
    const row = document.createElement("div");
    row.className = "buttons";
    for (const b of message.buttons) {
      const el = document.createElement(b.url ? "a" : "button");
      el.textContent = b.label;
      if (b.url) { el.href = b.url; el.target = "_blank"; el.rel = "noopener"; }
      else el.onclick = () => api("/chat/api/messages", {session, data: b.data}).catch(() => {});
      row.appendChild(el);
    }
    bubble.appendChild(row);
  }
  log.appendChild(bubble);
  log.scrollTop = log.scrollHeight;
}

async function poll() {
  try {
    const result = await api(`/chat/api/messages?session=${encodeURIComponent(session)}&after=${encodeURIComponent(cursor)}`);
    cursor = result.cursor;
    result.messages.forEach(show);
  } catch (e) { /* keep polling */ }
  setTimeout(poll, 1000);
}

async function bindWith(token) {
  const result = await api("/chat/api/bind", {token, session});
  session = result.session;
  localStorage.setItem("buyerbot.session", session);
  speak(result.language);
  document.getElementById("bind").hidden = true;
  document.getElementById("send-form").hidden = false;
  poll();
}

document.getElementById("send-form").onsubmit = async (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (!input.value.trim()) return;
  await api("/chat/api/messages", {session, text: input.value});
  input.value = "";
};
document.getElementById("bind-form").onsubmit = (event) => {
  event.preventDefault();
  bindWith(document.getElementById("token").value.trim()).catch(e => document.getElementById("bind-error").textContent = e.message);
};

const token = new URLSearchParams(location.search).get("t");
if (token) bindWith(token).catch(e => { document.getElementById("bind").hidden = false; document.getElementById("bind-error").textContent = e.message; });
else if (session) { speak(localStorage.getItem("buyerbot.language") || "en"); document.getElementById("send-form").hidden = false; poll(); }
else document.getElementById("bind").hidden = false;
