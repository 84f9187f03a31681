"""Bot API method implementations of the fake Telegram server: sending, editing, files, topics, commands."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from tests.fakes.telegram_models import (
    CallbackAnswer,
    EditRecord,
    FileInfo,
    SentMessage,
    UploadedFile,
    bad_request,
    check_commands,
    check_markup,
    check_text,
    parse_json_field,
    visible_text,
)
from tests.fakes.telegram_state import Files, Params, TelegramState, _bool, _int, _str

CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "photo", "video", "document")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
TRUE_METHODS = [
    "sendChatAction",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "logOut",
    "close",
    "setMyDefaultAdministratorRights",
    "pinChatMessage",
    "unpinChatMessage",
    "setMessageReaction",
]


class TelegramCore(TelegramState):
    def _setup(self) -> None:
        super()._setup()
        self._handlers.update(
            {
                "getme": lambda p, f: {
                    **self.bot_user,
                    "can_join_groups": True,
                    "can_read_all_group_messages": True,
                    "supports_inline_queries": False,
                    "can_connect_to_business": False,
                    "has_main_web_app": False,
                },
                "getupdates": self._get_updates,
                "setwebhook": self._set_webhook,
                "deletewebhook": self._delete_webhook,
                "getwebhookinfo": self._webhook_info,
                "sendmessage": self._send_message,
                "sendphoto": lambda p, f: self._send_media("photo", p, f),
                "sendvideo": lambda p, f: self._send_media("video", p, f),
                "senddocument": lambda p, f: self._send_media("document", p, f),
                "getfile": self._get_file,
                "forwardmessage": lambda p, f: self._forward(p, copy_only=False),
                "copymessage": lambda p, f: self._forward(p, copy_only=True),
                "editmessagetext": lambda p, f: self._edit(p, "editMessageText"),
                "editmessagecaption": lambda p, f: self._edit(p, "editMessageCaption"),
                "editmessagereplymarkup": lambda p, f: self._edit(p, "editMessageReplyMarkup"),
                "deletemessage": self._delete_message,
                "answercallbackquery": self._answer_callback,
                "createforumtopic": self._create_topic,
                "editforumtopic": lambda p, f: self._topic_op(p, "edit"),
                "closeforumtopic": lambda p, f: self._topic_op(p, "close"),
                "reopenforumtopic": lambda p, f: self._topic_op(p, "reopen"),
                "deleteforumtopic": lambda p, f: self._topic_op(p, "delete"),
                "setmycommands": self._set_commands,
                "getmycommands": lambda p, f: self.commands.get(self._scope_key(p), []),
                "deletemycommands": lambda p, f: self.commands.pop(self._scope_key(p), None) is None or True,
                "getchat": self._get_chat,
                **{m.lower(): (lambda p, f: True) for m in TRUE_METHODS},
            }
        )

    # ----------------------------------------------------------------- sending
    def _send(
        self,
        method: str,
        p: Params,
        content: dict[str, Any],
        *,
        text: str | None,
        media_type: str | None = None,
        file_id: str | None = None,
    ) -> dict[str, Any]:
        chat_id, chat = self._target(p)
        tid = self._thread_of(chat_id, p)
        markup = check_markup(parse_json_field("reply_markup", p.get("reply_markup")))
        reply = parse_json_field("reply_parameters", p.get("reply_parameters")) or {}
        if not reply and p.get("reply_to_message_id"):
            reply = {"message_id": p["reply_to_message_id"]}
        replied = None
        if reply.get("message_id"):
            replied = self._messages.get((int(reply.get("chat_id", chat_id)), int(reply["message_id"])))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            if replied is not None and tid is None and chat_id < 0:
                tid = replied.get("message_thread_id")
        self.limiter.check(chat_id)
        msg: dict[str, Any] = {
            "message_id": self._next_mid(chat_id),
            "from": dict(self.bot_user),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if tid is not None:
            msg.update(message_thread_id=tid, is_topic_message=True)
        if replied is not None:
            msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        if markup and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        key = (chat_id, msg["message_id"])
        self._messages[key] = msg
        self._bot_messages.add(key)
        self.sent.append(
            SentMessage(
                seq=next(self._ids),
                method=method,
                chat_id=chat_id,
                message_id=msg["message_id"],
                text=text,
                reply_markup=markup,
                message_thread_id=tid,
                time=time.time(),
                monotonic=time.monotonic(),
                parse_mode=_str(p, "parse_mode"),
                media_type=media_type,
                file_id=file_id,
                params=dict(p),
                message=copy.deepcopy(msg),
            )
        )
        self._changed()
        return msg

    def _send_message(self, p: Params, f: Files) -> dict[str, Any]:
        pm = _str(p, "parse_mode")
        shown = visible_text(check_text(p.get("text"), pm), pm)
        content: dict[str, Any] = {"text": shown}
        if p.get("entities"):
            content["entities"] = parse_json_field("entities", p["entities"])
        return self._send("sendMessage", p, content, text=shown)

    def register_file(
        self, kind: str, content: bytes = b"", *, file_id: str | None = None, file_name: str | None = None
    ) -> FileInfo:
        """Make a file id known to the fake (getFile / download will work for it)."""
        with self._lock:
            if file_id in self._files:
                return self._files[file_id]
            n = next(self._ids)
            ext = {"photo": ".jpg", "video": ".mp4"}.get(kind, "")
            fid = file_id or f"{kind.upper()}-{n}-{secrets.token_hex(6)}"
            info = FileInfo(fid, f"U{n}", kind, f"{kind}s/file_{n}{ext}", content or f"fake-{fid}".encode(), file_name)
            self._files[fid] = info
            return info

    def media_object(self, info: FileInfo) -> Any:
        base = {
            "file_id": info.file_id,
            "file_unique_id": info.file_unique_id,
            "file_size": len(info.content),
        }
        if info.kind == "photo":
            return [{**base, "width": 1280, "height": 960}]
        if info.kind == "video":
            return {**base, "width": 1280, "height": 720, "duration": 5}
        return {**base, **({"file_name": info.file_name} if info.file_name else {})}

    def _resolve_file(self, kind: str, p: Params, f: Files) -> FileInfo:
        value = p.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = f.get(value[len("attach://") :])
            if value is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        value = f.get(kind, value)
        if isinstance(value, UploadedFile):
            return self.register_file(kind, value.content, file_name=value.filename)
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        if str(value).startswith(("http://", "https://")):
            return self.register_file(kind, b"", file_name=str(value).rsplit("/", 1)[-1])
        return self._files.get(str(value)) or self.register_file(kind, file_id=str(value))

    def _send_media(self, kind: str, p: Params, f: Files) -> dict[str, Any]:
        pm = _str(p, "parse_mode")
        caption = visible_text(check_text(p.get("caption"), pm, caption=True), pm)
        info = self._resolve_file(kind, p, f)
        content: dict[str, Any] = {kind: self.media_object(info)}
        if caption:
            content["caption"] = caption
        method = "send" + kind.capitalize()
        return self._send(method, p, content, text=caption or None, media_type=kind, file_id=info.file_id)

    def _get_file(self, p: Params, f: Files) -> dict[str, Any]:
        info = self._files.get(str(p.get("file_id", "")))
        if info is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": info.file_id,
            "file_unique_id": info.file_unique_id,
            "file_size": len(info.content),
            "file_path": info.file_path,
        }

    def file_content(self, file_path: str) -> bytes | None:
        with self._lock:
            return next((i.content for i in self._files.values() if i.file_path == file_path), None)

    def _forward(self, p: Params, *, copy_only: bool) -> dict[str, Any]:
        src_chat, mid = _int(p, "from_chat_id"), _int(p, "message_id")
        src = self._messages.get((src_chat or 0, mid or 0))
        if src is None:
            raise bad_request(f"message to {'copy' if copy_only else 'forward'} not found")
        content = {k: copy.deepcopy(src[k]) for k in CONTENT_KEYS if k in src}
        if copy_only and "caption" in p:
            pm = _str(p, "parse_mode")
            content["caption"] = visible_text(check_text(p.get("caption"), pm, caption=True), pm)
        if not copy_only:
            content["forward_origin"] = {"type": "user", "sender_user": src.get("from"), "date": src["date"]}
            p = {k: v for k, v in p.items() if k != "reply_markup"}
        media = next((k for k in ("photo", "video", "document") if k in content), None)
        msg = self._send(
            "copyMessage" if copy_only else "forwardMessage",
            p,
            content,
            text=content.get("text") or content.get("caption"),
            media_type=media,
        )
        return {"message_id": msg["message_id"]} if copy_only else msg

    # ----------------------------------------------------------------- editing
    def _edit(self, p: Params, method: str) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id, mid = _int(p, "chat_id"), _int(p, "message_id")
        key = (chat_id or 0, mid or 0)
        old = self._messages.get(key)
        if old is None:
            raise bad_request("message to edit not found")
        if key not in self._bot_messages:
            raise bad_request("message can't be edited")
        new = copy.deepcopy(old)
        pm = _str(p, "parse_mode")
        if method == "editMessageText":
            if "text" not in old:
                raise bad_request("there is no text in the message to edit")
            new["text"] = visible_text(check_text(p.get("text"), pm), pm)
        elif method == "editMessageCaption":
            if "text" in old:
                raise bad_request("there is no caption in the message to edit")
            new["caption"] = visible_text(check_text(p.get("caption"), pm, caption=True), pm)
        markup = check_markup(parse_json_field("reply_markup", p.get("reply_markup")))
        new.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        if all(new.get(k) == old.get(k) for k in ("text", "caption", "reply_markup")):
            raise bad_request(NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._messages[key] = new
        text = new.get("text", new.get("caption"))
        self.edits.append(EditRecord(method, key[0], key[1], text, new.get("reply_markup"), time.time()))
        self._changed()
        return new

    def _delete_message(self, p: Params, f: Files) -> bool:
        key = (_int(p, "chat_id") or 0, _int(p, "message_id") or 0)
        if self._messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        self.deleted.append(key)
        self._changed()
        return True

    def _answer_callback(self, p: Params, f: Files) -> bool:
        qid = str(p.get("callback_query_id", ""))
        query = self._callbacks.get(qid)
        if query is None or query["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = _str(p, "text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(
            CallbackAnswer(
                qid,
                query["chat_id"],
                query["message_id"],
                text,
                _bool(p, "show_alert"),
                _str(p, "url"),
                _int(p, "cache_time", required=False),
                time.time(),
            )
        )
        self._changed()
        return True

    # ----------------------------------------------------------------- forum topics
    def create_topic(self, chat_id: int, name: str, icon_color: int = 7322096) -> int:
        with self._lock:
            if chat_id > 0:
                raise bad_request("the chat is not a forum")
            if not 1 <= len(name) <= 128:
                raise bad_request("TOPIC_NAME_INVALID" if name else "name is empty")
            tid = self._next_mid(chat_id)
            self._topics[(chat_id, tid)] = {
                "name": name,
                "icon_color": icon_color,
                "closed": False,
                "deleted": False,
            }
            self._messages[(chat_id, tid)] = {
                "message_id": tid,
                "date": int(time.time()),
                "chat": self._chat_obj(chat_id),
                "message_thread_id": tid,
                "forum_topic_created": {"name": name, "icon_color": icon_color},
            }
            return tid

    def _create_topic(self, p: Params, f: Files) -> dict[str, Any]:
        chat_id, _ = self._target(p)
        color = _int(p, "icon_color", required=False) or 7322096
        tid = self.create_topic(chat_id, str(p.get("name", "")), color)
        return {"message_thread_id": tid, "name": self._topics[(chat_id, tid)]["name"], "icon_color": color}

    def _topic_op(self, p: Params, op: str) -> bool:
        chat_id, _ = self._target(p)
        topic = self._topics.get((chat_id, _int(p, "message_thread_id") or 0))
        if topic is None or topic["deleted"]:
            raise bad_request("message thread not found")
        if op == "edit":
            name = _str(p, "name")
            if name is not None and name == topic["name"] and "icon_custom_emoji_id" not in p:
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic["name"] = name or topic["name"]
        elif op in ("close", "reopen"):
            if topic["closed"] == (op == "close"):
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic["closed"] = op == "close"
        else:
            topic["deleted"] = True
        return True

    # ----------------------------------------------------------------- misc methods
    def _scope_key(self, p: Params) -> tuple[str, str]:
        scope = parse_json_field("scope", p.get("scope")) or {"type": "default"}
        return (str(sorted(scope.items())), _str(p, "language_code") or "")

    def _set_commands(self, p: Params, f: Files) -> bool:
        self.commands[self._scope_key(p)] = check_commands(parse_json_field("commands", p.get("commands")))
        return True

    def _get_chat(self, p: Params, f: Files) -> dict[str, Any]:
        chat_id = _int(p, "chat_id")
        chat = self._chat_obj(chat_id or 0)
        gifts = (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        )
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(gifts, False),
        }
