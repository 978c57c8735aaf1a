/**
 * The media phrases (attachments, voice, the viewer, the media tab, storage), in their own
 * dictionary beside i18n.ts so that the media screens do not touch the shared phrase list.
 */
import { lang } from '../i18n';

const en = {
  attach: 'Attach',
  attachGallery: 'Photo or video',
  attachCamera: 'Camera',
  attachFile: 'File',
  attachments: 'Attachments',
  removeAttachment: 'Remove {name}',
  captionPlaceholder: 'Add a caption',
  uploading: 'Uploading {p}%',
  waitingUpload: 'Waiting for the connection',
  uploadFailed: 'Upload failed',
  recordVoice: 'Record voice message',
  holdToRecord: 'Hold to record, release to send',
  slideToCancel: '‹ Slide to cancel',
  recording: 'Recording',
  stopRecording: 'Stop recording',
  deleteRecording: 'Delete recording',
  sendVoice: 'Send voice message',
  micUnavailable: 'The microphone is not available',
  play: 'Play',
  pause: 'Pause',
  playVoice: 'Play voice message',
  speed: 'Playback speed',
  photo: 'Photo',
  video: 'Video',
  audio: 'Audio',
  voiceMessage: 'Voice message',
  file: 'File',
  download: 'Download',
  downloadName: 'Download {name}',
  openPhoto: 'Open photo',
  photoViewer: 'Photo {i} of {n}',
  previous: 'Previous',
  next: 'Next',
  zoomIn: 'Zoom in',
  zoomOut: 'Zoom out',
  mediaAndFiles: 'Media and files',
  mediaTab: 'Media',
  filesTab: 'Files',
  voiceTab: 'Voice',
  noMedia: 'Nothing shared here yet.',
  loadMore: 'Show more',
  storage: 'Storage',
  storageTotal: 'Used in total: {size}',
  storageFiles: '{n} files',
  noStorage: 'No files stored yet.',
  'err.PAYLOAD_TOO_LARGE': 'The file is too large.',
  'err.QUOTA_EXCEEDED': 'Your storage is full: delete some files first.',
  'err.UNSUPPORTED_MEDIA': 'This file could not be read.',
  'err.UPLOAD_LOST': 'The file is no longer on this device.',
  bytes: '{n} B',
  kb: '{n} KB',
  mb: '{n} MB',
  gb: '{n} GB',
};

export type MediaKey = keyof typeof en;

const ru: Record<MediaKey, string> = {
  attach: 'Прикрепить',
  attachGallery: 'Фото или видео',
  attachCamera: 'Камера',
  attachFile: 'Файл',
  attachments: 'Вложения',
  removeAttachment: 'Убрать {name}',
  captionPlaceholder: 'Добавьте подпись',
  uploading: 'Загрузка {p}%',
  waitingUpload: 'Ждём связи',
  uploadFailed: 'Не удалось загрузить',
  recordVoice: 'Записать голосовое сообщение',
  holdToRecord: 'Удерживайте для записи, отпустите, чтобы отправить',
  slideToCancel: '‹ Влево — отмена',
  recording: 'Идёт запись',
  stopRecording: 'Остановить запись',
  deleteRecording: 'Удалить запись',
  sendVoice: 'Отправить голосовое сообщение',
  micUnavailable: 'Микрофон недоступен',
  play: 'Воспроизвести',
  pause: 'Пауза',
  playVoice: 'Прослушать голосовое сообщение',
  speed: 'Скорость воспроизведения',
  photo: 'Фото',
  video: 'Видео',
  audio: 'Аудио',
  voiceMessage: 'Голосовое сообщение',
  file: 'Файл',
  download: 'Скачать',
  downloadName: 'Скачать {name}',
  openPhoto: 'Открыть фото',
  photoViewer: 'Фото {i} из {n}',
  previous: 'Предыдущее',
  next: 'Следующее',
  zoomIn: 'Увеличить',
  zoomOut: 'Уменьшить',
  mediaAndFiles: 'Медиа и файлы',
  mediaTab: 'Медиа',
  filesTab: 'Файлы',
  voiceTab: 'Голосовые',
  noMedia: 'Здесь пока ничего не отправляли.',
  loadMore: 'Показать ещё',
  storage: 'Хранилище',
  storageTotal: 'Всего занято: {size}',
  storageFiles: 'файлов: {n}',
  noStorage: 'Файлов пока нет.',
  'err.PAYLOAD_TOO_LARGE': 'Файл слишком большой.',
  'err.QUOTA_EXCEEDED': 'Ваше хранилище заполнено: сначала удалите часть файлов.',
  'err.UNSUPPORTED_MEDIA': 'Этот файл не удалось прочитать.',
  'err.UPLOAD_LOST': 'Файла больше нет на этом устройстве.',
  bytes: '{n} Б',
  kb: '{n} КБ',
  mb: '{n} МБ',
  gb: '{n} ГБ',
};

/** An upload's error code in words (the general ones are i18n.ts's). */
export function uploadErrorText(code: string | undefined): string | null {
  const key = `err.${code}` as MediaKey;
  return code && key in en ? tm(key) : null;
}

export function tm(key: MediaKey, params?: Record<string, string | number>): string {
  let s = (lang() === 'ru' ? ru : en)[key] ?? en[key];
  if (params) for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** 1536 → "1.5 KB" (decimal comma in Russian). */
export function formatSize(n: number): string {
  const fmt = (v: number) => v.toLocaleString(lang() === 'ru' ? 'ru-RU' : 'en-GB', { maximumFractionDigits: 1 });
  if (n < 1024) return tm('bytes', { n });
  if (n < 1024 ** 2) return tm('kb', { n: fmt(n / 1024) });
  if (n < 1024 ** 3) return tm('mb', { n: fmt(n / 1024 ** 2) });
  return tm('gb', { n: fmt(n / 1024 ** 3) });
}

/** 75_000 ms → "1:15". */
export function formatDuration(ms: number | null | undefined): string {
  const s = Math.max(0, Math.round((ms || 0) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
