from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "fangkong.demo"
    label = "demo"
