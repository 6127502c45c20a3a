from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "fangkong.backup"
    label = "backup"
