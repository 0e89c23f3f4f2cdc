# Entorno: ejecuta esta celda la primera, en Jupyter o en Google Colab.
# - Silencia los mensajes internos de TensorFlow (deben fijarse antes de
#   importarlo; si ya lo importaste, reinicia el entorno de ejecución).
# - En Colab, trae tu repositorio de GitHub (o los archivos que subas) y
#   entra en su carpeta assignment/. En Jupyter no hace nada más.
import io
import os
import subprocess
import zipfile
from base64 import b64encode
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # sin avisos internos de TensorFlow
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # sin el aviso de oneDNN

# Solo en Colab: la dirección de tu repositorio, por ejemplo
# https://github.com/mi-clase/mnist-tu-usuario (vacía: subirás los archivos).
REPOSITORIO = ""  # @param {type:"string"}
# Si el repositorio es privado, guarda un token de GitHub con permiso de
# lectura en los secretos de Colab (icono de la llave) con este nombre y
# dale acceso a este cuaderno.
SECRETO_TOKEN = "GITHUB_TOKEN"
RAIZ_COLAB = Path("/content")  # donde Colab guarda los archivos de la sesión


def token_de_colab(nombre):
    """El token guardado en los secretos de Colab, o None si no hay."""
    from google.colab import userdata

    try:
        return userdata.get(nombre) or None
    except (userdata.SecretNotFoundError, userdata.NotebookAccessError):
        return None


def clonar(repositorio, destino):
    """git clone del repositorio; el token viaja en una cabecera, no se guarda."""
    entorno = dict(os.environ)
    token = token_de_colab(SECRETO_TOKEN)
    if token:
        credencial = b64encode(f"x-access-token:{token}".encode()).decode()
        entorno.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.https://github.com/.extraheader",
            GIT_CONFIG_VALUE_0=f"AUTHORIZATION: basic {credencial}",
        )
    hecho = subprocess.run(["git", "clone", "--quiet", repositorio, str(destino)], env=entorno)
    if hecho.returncode != 0:
        raise RuntimeError(
            "No se pudo clonar el repositorio. Revisa la dirección y, si es privado, "
            f"el secreto {SECRETO_TOKEN} de Colab (icono de la llave)."
        )


def subir_archivos(destino):
    """Pide un .zip de la carpeta assignment/ (o sus archivos) y lo deja en destino."""
    from google.colab import files

    print("Sube un .zip de tu carpeta assignment/ (o mnist_dense.py y tus archivos).")
    destino.mkdir(parents=True, exist_ok=True)
    for nombre, contenido in files.upload().items():
        if nombre.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(contenido)) as archivo:
                archivo.extractall(destino)
        else:
            (destino / nombre).write_bytes(contenido)
    interiores = [p.parent for p in destino.rglob("mnist_dense.py")]
    return min(interiores, key=lambda p: len(p.parts)) if interiores else destino


try:
    import google.colab  # noqa: F401
except ImportError:
    EN_COLAB = False
else:
    EN_COLAB = True

if EN_COLAB and not Path("mnist_dense.py").is_file():
    if REPOSITORIO.strip():
        nombre = REPOSITORIO.strip().rstrip("/").split("/")[-1].removesuffix(".git")
        carpeta = RAIZ_COLAB / nombre
        if not carpeta.exists():
            clonar(REPOSITORIO.strip(), carpeta)
        os.chdir(carpeta / "assignment")
    else:
        os.chdir(subir_archivos(RAIZ_COLAB / "assignment"))
    print("Carpeta de trabajo:", Path.cwd())
