DEBUG = False
WSGI_APPLICATION = 'shop.wsgi.application'
