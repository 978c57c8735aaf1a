"""Push notifications: Web Push (VAPID, RFC 8291) and FCM HTTP v1 (docs/push.md)."""
