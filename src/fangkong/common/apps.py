from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "fangkong.common"
    label = "common"

    def ready(self) -> None:
        from fangkong.common import checks  # noqa: F401  (registers the deploy checks)
