/** Phrases of replies, reactions, forwards, pins and mentions (ADR 14), in both languages. */
import { lang } from './i18n';

const en = {
  reply: 'Reply',
  replyingTo: 'Reply to {name}',
  cancelReply: 'Cancel reply',
  deletedOriginal: 'Deleted message',
  originalNotLoaded: 'The original message is no longer in this chat',
  react: 'React',
  reactWith: 'React with {emoji}',
  otherEmoji: 'Other emoji',
  otherEmojiHint: 'Type or paste one emoji',
  whoReacted: 'Who reacted',
  reactedBy: '{emoji} {names}',
  forward: 'Forward',
  forwardTo: 'Forward to…',
  forwardSend: 'Forward',
  forwarded: 'Forwarded',
  forwardedFrom: 'Forwarded from {name}',
  forwardDone: 'Forwarded',
  pin: 'Pin',
  unpin: 'Unpin',
  pinned: 'Pinned message',
  pinnedOf: 'Pinned message {i} of {n}',
  mentionsBadge: 'You were mentioned {n} times',
  mentionSuggestions: 'Members to mention',
  select: 'Select',
  selected: '{n} selected',
  cancelSelection: 'Cancel selection',
};

type Key = keyof typeof en;

const ru: Record<Key, string> = {
  reply: 'Ответить',
  replyingTo: 'Ответ {name}',
  cancelReply: 'Отменить ответ',
  deletedOriginal: 'Удалённое сообщение',
  originalNotLoaded: 'Исходного сообщения больше нет в этом чате',
  react: 'Реакция',
  reactWith: 'Реакция {emoji}',
  otherEmoji: 'Другой эмодзи',
  otherEmojiHint: 'Введите или вставьте один эмодзи',
  whoReacted: 'Кто отреагировал',
  reactedBy: '{emoji} {names}',
  forward: 'Переслать',
  forwardTo: 'Переслать в…',
  forwardSend: 'Переслать',
  forwarded: 'Пересланное сообщение',
  forwardedFrom: 'Переслано от {name}',
  forwardDone: 'Переслано',
  pin: 'Закрепить',
  unpin: 'Открепить',
  pinned: 'Закреплённое сообщение',
  pinnedOf: 'Закреплённое сообщение {i} из {n}',
  mentionsBadge: 'Вас упомянули: {n}',
  mentionSuggestions: 'Кого упомянуть',
  select: 'Выбрать',
  selected: 'Выбрано: {n}',
  cancelSelection: 'Отменить выбор',
};

export function tr(key: Key, params?: Record<string, string | number>): string {
  let s = (lang() === 'ru' ? ru : en)[key] ?? en[key];
  if (params) for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
  return s;
}
