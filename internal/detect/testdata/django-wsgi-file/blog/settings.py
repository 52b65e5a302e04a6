DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "blog.urls"
