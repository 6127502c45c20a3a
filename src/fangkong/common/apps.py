from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "fangkong.common"
    label = "common"
