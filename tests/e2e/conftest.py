from tests.e2e.support import fast  # noqa: F401 - fixture
