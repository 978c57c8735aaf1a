/** Two languages, English and Russian. `t(key, params)` looks a phrase up in the current one. */

const en = {
  appName: 'Inner Circle',
  tagline: 'Your family, privately.',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  signOut: 'Sign out',
  username: 'Username',
  password: 'Password',
  newPassword: 'New password',
  currentPassword: 'Current password',
  displayName: 'Display name',
  displayNameOptional: 'Display name (optional)',
  invitationCode: 'Invitation code',
  haveInvite: 'I have an invitation',
  haveAccount: 'I already have an account',
  join: 'Join the family',
  joining: 'Joining…',
  joinTitle: 'You are invited',
  joinHint: 'Choose a username and a password to join.',
  usernameHint: 'At least 3 characters: letters, digits, _ . -',
  passwordHint: 'At least 6 characters',
  chats: 'Chats',
  search: 'Search',
  newChat: 'New chat',
  newGroup: 'New group',
  groupName: 'Group name',
  create: 'Create',
  cancel: 'Cancel',
  close: 'Close',
  save: 'Save',
  saved: 'Saved',
  back: 'Back',
  send: 'Send',
  retry: 'Retry',
  messagePlaceholder: 'Message',
  noChats: 'No chats yet. Start one with the pencil button.',
  noMessages: 'No messages here yet. Say hello!',
  familyChat: 'Family',
  you: 'You',
  today: 'Today',
  yesterday: 'Yesterday',
  online: 'online',
  offline: 'offline',
  lastSeen: 'last seen {when}',
  members: '{n} members',
  membersOnline: '{n} members, {m} online',
  typing1: '{a} is typing…',
  typing2: '{a} and {b} are typing…',
  typingMany: 'Several people are typing…',
  connecting: 'Connecting…',
  noConnection: 'No connection',
  sending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
  readBy: 'Read by',
  deliveredTo: 'Delivered to',
  nobodyYet: 'Nobody yet',
  messageInfo: 'Message info',
  loadingOlder: 'Loading older messages…',
  startOfChat: 'This is the beginning of the chat',
  scrollToBottom: 'Scroll to the latest message',
  unread: '{n} unread',
  chatInfo: 'Chat info',
  rename: 'Rename',
  addMembers: 'Add members',
  remove: 'Remove',
  removeMember: 'Remove {name}',
  leaveGroup: 'Leave group',
  leaveConfirm: 'Leave “{name}”?',
  participants: 'Members',
  familyMembers: 'Family members',
  selectMembers: 'Select members',
  noOtherMembers: 'Nobody else is here yet. Invite your family in Settings → Invitations.',
  settings: 'Settings',
  profile: 'Profile',
  appearance: 'Appearance',
  theme: 'Theme',
  themeSystem: 'System',
  themeLight: 'Light',
  themeDark: 'Dark',
  language: 'Language',
  languageAuto: 'Browser default',
  changePassword: 'Change password',
  passwordChanged: 'Password changed',
  admin: 'Administration',
  invitations: 'Invitations',
  createInvitation: 'Create invitation',
  usageLimit: 'Number of uses',
  expiresIn: 'Expires in',
  expiry1d: '1 day',
  expiry7d: '7 days',
  expiry30d: '30 days',
  expiryNever: 'Never',
  adminInvite: 'Grants admin rights',
  copyLink: 'Copy link',
  copied: 'Link copied',
  showQr: 'Show QR code',
  revoke: 'Revoke',
  uses: '{used} of {limit} used',
  expires: 'expires {when}',
  status_active: 'active',
  status_used: 'used',
  status_expired: 'expired',
  status_revoked: 'revoked',
  noInvitations: 'No invitations yet.',
  memberList: 'Members',
  deactivate: 'Deactivate',
  deactivated: 'deactivated',
  deactivateConfirm: 'Deactivate {name}? They will be signed out and cannot sign in again.',
  resetPassword: 'Reset password',
  resetPasswordFor: 'New password for {name}',
  passwordReset: 'Password reset',
  adminBadge: 'admin',
  about: 'Inner Circle — a private messenger for your family.',
  install: 'Install app',
  installHint: 'Add Inner Circle to your home screen.',
  openChat: 'Open chat with {name}',
  avatarOf: 'Avatar of {name}',
  unknownError: 'Something went wrong. Please try again.',
  'err.VALIDATION_FAILED': 'Please check the fields.',
  'err.UNAUTHENTICATED': 'Please sign in again.',
  'err.INVALID_CREDENTIALS': 'Wrong username or password.',
  'err.TOKEN_INVALID': 'Your session has expired. Please sign in again.',
  'err.FORBIDDEN': 'You are not allowed to do that.',
  'err.ADMIN_ONLY': 'Only an administrator can do that.',
  'err.ACCOUNT_DEACTIVATED': 'This account has been deactivated.',
  'err.NOT_FOUND': 'Not found.',
  'err.USERNAME_TAKEN': 'This username is already taken.',
  'err.INVITE_INVALID': 'This invitation code is not valid.',
  'err.INVITE_USED': 'This invitation has already been used.',
  'err.INVITE_EXPIRED': 'This invitation has expired.',
  'err.INVITE_REVOKED': 'This invitation has been revoked.',
  'err.RATE_LIMITED': 'Too many attempts. Please wait a little.',
  'err.PAYLOAD_TOO_LARGE': 'This message is too long.',
  'err.UNAVAILABLE': 'The server is unavailable right now.',
  'err.INTERNAL': 'The server had a problem. Please try again.',
  'err.NETWORK': 'No connection to the server.',
};

export type Key = keyof typeof en;

const ru: Record<Key, string> = {
  appName: 'Inner Circle',
  tagline: 'Ваша семья — только для своих.',
  signIn: 'Войти',
  signingIn: 'Вход…',
  signOut: 'Выйти',
  username: 'Имя пользователя',
  password: 'Пароль',
  newPassword: 'Новый пароль',
  currentPassword: 'Текущий пароль',
  displayName: 'Отображаемое имя',
  displayNameOptional: 'Отображаемое имя (необязательно)',
  invitationCode: 'Код приглашения',
  haveInvite: 'У меня есть приглашение',
  haveAccount: 'У меня уже есть аккаунт',
  join: 'Присоединиться',
  joining: 'Присоединяемся…',
  joinTitle: 'Вас пригласили',
  joinHint: 'Придумайте имя пользователя и пароль.',
  usernameHint: 'Не короче 3 символов: латинские буквы, цифры, _ . -',
  passwordHint: 'Не короче 6 символов',
  chats: 'Чаты',
  search: 'Поиск',
  newChat: 'Новый чат',
  newGroup: 'Новая группа',
  groupName: 'Название группы',
  create: 'Создать',
  cancel: 'Отмена',
  close: 'Закрыть',
  save: 'Сохранить',
  saved: 'Сохранено',
  back: 'Назад',
  send: 'Отправить',
  retry: 'Повторить',
  messagePlaceholder: 'Сообщение',
  noChats: 'Чатов пока нет. Начните новый кнопкой с карандашом.',
  noMessages: 'Здесь пока нет сообщений. Напишите первым!',
  familyChat: 'Семья',
  you: 'Вы',
  today: 'Сегодня',
  yesterday: 'Вчера',
  online: 'в сети',
  offline: 'не в сети',
  lastSeen: 'был(а) {when}',
  members: '{n} участников',
  membersOnline: '{n} участников, {m} в сети',
  typing1: '{a} печатает…',
  typing2: '{a} и {b} печатают…',
  typingMany: 'Несколько человек печатают…',
  connecting: 'Соединение…',
  noConnection: 'Нет соединения',
  sending: 'Отправляется',
  sent: 'Отправлено',
  delivered: 'Доставлено',
  read: 'Прочитано',
  failed: 'Не отправлено',
  readBy: 'Прочитали',
  deliveredTo: 'Доставлено',
  nobodyYet: 'Пока никто',
  messageInfo: 'О сообщении',
  loadingOlder: 'Загружаем старые сообщения…',
  startOfChat: 'Это начало чата',
  scrollToBottom: 'К последнему сообщению',
  unread: 'непрочитанных: {n}',
  chatInfo: 'О чате',
  rename: 'Переименовать',
  addMembers: 'Добавить участников',
  remove: 'Удалить',
  removeMember: 'Удалить {name}',
  leaveGroup: 'Покинуть группу',
  leaveConfirm: 'Покинуть «{name}»?',
  participants: 'Участники',
  familyMembers: 'Члены семьи',
  selectMembers: 'Выберите участников',
  noOtherMembers: 'Здесь пока никого нет. Пригласите семью: Настройки → Приглашения.',
  settings: 'Настройки',
  profile: 'Профиль',
  appearance: 'Оформление',
  theme: 'Тема',
  themeSystem: 'Системная',
  themeLight: 'Светлая',
  themeDark: 'Тёмная',
  language: 'Язык',
  languageAuto: 'Как в браузере',
  changePassword: 'Сменить пароль',
  passwordChanged: 'Пароль изменён',
  admin: 'Администрирование',
  invitations: 'Приглашения',
  createInvitation: 'Создать приглашение',
  usageLimit: 'Число использований',
  expiresIn: 'Срок действия',
  expiry1d: '1 день',
  expiry7d: '7 дней',
  expiry30d: '30 дней',
  expiryNever: 'Бессрочно',
  adminInvite: 'Даёт права администратора',
  copyLink: 'Копировать ссылку',
  copied: 'Ссылка скопирована',
  showQr: 'Показать QR-код',
  revoke: 'Отозвать',
  uses: 'использовано {used} из {limit}',
  expires: 'до {when}',
  status_active: 'активно',
  status_used: 'использовано',
  status_expired: 'истекло',
  status_revoked: 'отозвано',
  noInvitations: 'Приглашений пока нет.',
  memberList: 'Участники',
  deactivate: 'Отключить',
  deactivated: 'отключён',
  deactivateConfirm: 'Отключить {name}? Пользователь выйдет и больше не сможет войти.',
  resetPassword: 'Сбросить пароль',
  resetPasswordFor: 'Новый пароль для {name}',
  passwordReset: 'Пароль сброшен',
  adminBadge: 'админ',
  about: 'Inner Circle — закрытый мессенджер для вашей семьи.',
  install: 'Установить приложение',
  installHint: 'Добавьте Inner Circle на главный экран.',
  openChat: 'Открыть чат с {name}',
  avatarOf: 'Аватар {name}',
  unknownError: 'Что-то пошло не так. Попробуйте ещё раз.',
  'err.VALIDATION_FAILED': 'Проверьте поля формы.',
  'err.UNAUTHENTICATED': 'Войдите снова.',
  'err.INVALID_CREDENTIALS': 'Неверное имя пользователя или пароль.',
  'err.TOKEN_INVALID': 'Сессия истекла. Войдите снова.',
  'err.FORBIDDEN': 'У вас нет прав на это действие.',
  'err.ADMIN_ONLY': 'Это может сделать только администратор.',
  'err.ACCOUNT_DEACTIVATED': 'Этот аккаунт отключён.',
  'err.NOT_FOUND': 'Не найдено.',
  'err.USERNAME_TAKEN': 'Это имя пользователя уже занято.',
  'err.INVITE_INVALID': 'Код приглашения недействителен.',
  'err.INVITE_USED': 'Это приглашение уже использовано.',
  'err.INVITE_EXPIRED': 'Срок действия приглашения истёк.',
  'err.INVITE_REVOKED': 'Это приглашение отозвано.',
  'err.RATE_LIMITED': 'Слишком много попыток. Подождите немного.',
  'err.PAYLOAD_TOO_LARGE': 'Сообщение слишком длинное.',
  'err.UNAVAILABLE': 'Сервер сейчас недоступен.',
  'err.INTERNAL': 'Ошибка на сервере. Попробуйте ещё раз.',
  'err.NETWORK': 'Нет связи с сервером.',
};

export type Lang = 'en' | 'ru';
export type LangPref = Lang | 'auto';

const dicts: Record<Lang, Record<Key, string>> = { en, ru };

export function browserLang(): Lang {
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of langs) {
    const base = (l || '').toLowerCase().slice(0, 2);
    if (base === 'ru' || base === 'uk' || base === 'be') return 'ru';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function langPref(): LangPref {
  const v = localStorage.getItem('ic.lang');
  return v === 'en' || v === 'ru' ? v : 'auto';
}

let current: Lang = resolveLang(langPref());

function resolveLang(p: LangPref): Lang {
  return p === 'auto' ? browserLang() : p;
}

export function lang(): Lang {
  return current;
}

export function setLangPref(p: LangPref): void {
  if (p === 'auto') localStorage.removeItem('ic.lang');
  else localStorage.setItem('ic.lang', p);
  current = resolveLang(p);
  document.documentElement.lang = current;
}

export function t(key: Key, params?: Record<string, string | number>): string {
  let s = dicts[current][key] ?? en[key] ?? key;
  if (params) for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** Russian needs three plural forms; English two. */
export function membersLabel(n: number, online?: number): string {
  if (current === 'ru') {
    const r = new Intl.PluralRules('ru').select(n);
    const word = r === 'one' ? 'участник' : r === 'few' ? 'участника' : 'участников';
    return online !== undefined && online > 0 ? `${n} ${word}, ${online} в сети` : `${n} ${word}`;
  }
  const word = n === 1 ? 'member' : 'members';
  return online !== undefined && online > 0 ? `${n} ${word}, ${online} online` : `${n} ${word}`;
}

export function errorText(code: string | undefined, fallback?: string): string {
  if (code && (`err.${code}` as Key) in en) return t(`err.${code}` as Key);
  return fallback || t('unknownError');
}

document.documentElement.lang = current;
