"""Everything the student reads, in Spanish (default) and English.

``t(lang, key, **params)`` formats one message with ``str.format``. A missing
key or parameter raises: the tests run every message in both languages.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("es", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "es": {
        # command line
        "cli.description": (
            "Ejecuta los experimentos de la hoja de exploración (assignment/exploration.md) "
            "con TUS funciones de mnist_dense.py y guarda una tabla de resultados y gráficas."
        ),
        "cli.epilog": "Experimentos (uno por ejercicio de la hoja):\n{experiments}",
        "cli.quick": "modo rápido: {train} imágenes de entrenamiento, {test} de prueba y pocas épocas (unos minutos)",
        "cli.only": "ejecuta solo este experimento (puedes repetir la opción); el resto de filas de la tabla se conserva",
        "cli.submission": "carpeta con mnist_dense.py (por defecto: assignment)",
        "cli.out": "carpeta de resultados (por defecto: exploration_results dentro de la carpeta de la entrega, assignment/exploration_results)",
        "cli.seed": "semilla aleatoria, fijada antes de cada entrenamiento (por defecto: {seed})",
        "cli.lang": "idioma de los mensajes, la tabla y las gráficas (por defecto: es)",
        "cli.train_size": "usa solo las primeras N imágenes de entrenamiento",
        "cli.test_size": "usa solo las primeras N imágenes de prueba",
        "cli.list": "muestra los experimentos y termina",
        # progress
        "run.header": "Exploración de MNIST · {mode} · semilla {seed}",
        "run.mode.quick": "modo rápido",
        "run.mode.full": "modo completo",
        "table.mode.quick": "rápido",
        "table.mode.full": "completo",
        "run.data": "Datos: {train} imágenes de entrenamiento, {test} de prueba · {epochs} épocas por defecto",
        "run.submission": "Funciones de: {path}",
        "run.loading": "Cargando TensorFlow y los datos con tu load_data()...",
        "run.count": "{runs} filas, {trainings} entrenamientos. Resultados en {out}",
        "run.ok": "precisión {accuracy}  pérdida {loss}  {seconds:6.1f} s",
        "run.reused": "reutilizado (mismo entrenamiento que {experiment} · {setting})",
        "run.error": "{error}",
        "run.eta": "quedan ~{eta}",
        "run.done": "Terminado en {elapsed}.",
        "run.plot_failed": "No se pudo dibujar {file}: {error}",
        "run.written": "Tabla de resultados: {csv} y {md}",
        "run.map": "Qué mirar en {out} para cada ejercicio de assignment/exploration.md:",
        "run.map.line": "  Ejercicio {number:>2} ({experiment}): {files}",
        "run.map.table": "filas «{experiment}» de results.md",
        "run.import_failed": "No se pudo importar {path}: {error}",
        "run.interrupted": "Interrumpido: la tabla solo tiene las filas terminadas.",
        # table
        "table.title": "Resultados de la exploración",
        "table.mode": "Modo {mode} · {train} imágenes de entrenamiento, {test} de prueba · semilla {seed}.",
        "table.merged": "Las filas de experimentos que no se ejecutaron esta vez vienen de ejecuciones anteriores.",
        "table.help": "Cada experimento corresponde a un ejercicio de `assignment/exploration.md` (el identificador aparece en su enunciado).",
        "col.experiment": "Experimento",
        "col.setting": "Configuración",
        "col.test_accuracy": "Precisión (prueba)",
        "col.final_loss": "Pérdida final (entrenamiento)",
        "col.train_time_s": "Tiempo de entrenamiento (s)",
        "col.note": "Nota",
        # settings
        "setting.units": "{units} neuronas",
        "setting.activation": "activación {activation}",
        "setting.no_flatten": "sin Flatten (modelo del programa)",
        "setting.optimizer": "optimizador {optimizer}",
        "setting.epochs": "{epochs} épocas",
        "setting.epoch": "1 época",
        "setting.layers": "capas ocultas {layers}",
        "setting.raw_pixels": "píxeles 0-255 (sin normalizar)",
        "setting.normalized": "píxeles 0-1 (normalizados, referencia)",
        "setting.output_units": "{units} neuronas de salida",
        "setting.baseline": "referencia: 128 neuronas, relu, adam",
        "setting.batch_size": "lote de {batch_size}",
        "setting.sample": "imagen de prueba {index} (dígito {label})",
        "setting.doubtful": "imagen de prueba {index} (dígito {label}, la más dudosa)",
        # notes
        "note.error": "Error en {stage}: {error}",
        "note.missing_function": "{module}.py no define la función {name}()",
        "note.not_a_model": "devolvió {type}, no un modelo de Keras",
        "note.params": "parámetros: {params}",
        "note.epoch_time": "{seconds:.2f} s por época",
        "note.val_accuracy": "precisión de validación por época: {values}",
        "note.losses": "pérdida por época: {values}",
        "note.val_losses": "loss por época: {loss}; val_loss por época: {val_loss}",
        "note.best_epoch": "menor val_loss en la época {epoch}",
        "note.output_shape": "forma de la salida del modelo: {shape}",
        "note.built_by_runner": "modelo construido por el programa (sin Flatten) y entrenado con tus compile_model y train_model",
        "note.batch_by_runner": "el programa fija batch_size={batch_size} en model.fit (train_model no tiene ese parámetro)",
        "note.nan_loss": "la pérdida es NaN: el entrenamiento no funcionó",
        "note.output_extra": "probabilidad media de las neuronas {units} (ninguna imagen tiene esas etiquetas): {value}",
        "note.probabilities": "probabilidades: {values}; suma {total}; predicción {predicted} (segunda: {second} con {second_p})",
        "note.unseen": "precisión con las imágenes de entrenamiento: {train}; con las de prueba: {test}; diferencia: {gap} puntos",
        "note.misclassified": "{wrong} de {total} imágenes de prueba mal clasificadas ({percent}); galería: {file}",
        "note.confusion": "confusiones más frecuentes (real→predicho): {pairs}; matriz: {file}",
        "note.no_confusion": "ninguna imagen mal clasificada; matriz: {file}",
        "note.same_training": "mismo entrenamiento que el modelo de referencia",
        # plots
        "plot.hidden_units.title": "Precisión de prueba según las neuronas de la capa oculta",
        "plot.hidden_units.x": "neuronas de la capa oculta",
        "plot.accuracy": "precisión (prueba)",
        "plot.params": "{params} parámetros",
        "plot.curves.activation": "Curvas de entrenamiento por función de activación",
        "plot.curves.optimizer": "Curvas de entrenamiento por optimizador",
        "plot.curves.epochs": "Curvas de entrenamiento según el número de épocas",
        "plot.loss": "Pérdida",
        "plot.acc": "Precisión",
        "plot.epoch": "época",
        "plot.train": "entrenamiento",
        "plot.val": "validación",
        "plot.confusion.title": "Matriz de confusión (imágenes de prueba)",
        "plot.confusion.true": "dígito real",
        "plot.confusion.pred": "dígito predicho",
        "plot.misclassified.title": "Dígitos de prueba mal clasificados ({shown} de {wrong})",
        "plot.misclassified.item": "real {true} · pred. {pred}",
        "plot.probabilities.title": "Probabilidades de la predicción",
        "plot.probabilities.item": "imagen {index}: dígito {label}",
        "plot.probabilities.y": "probabilidad",
        "plot.digit": "dígito",
        "plot.nothing": "sin datos: todos los entrenamientos fallaron",
    },
    "en": {
        "cli.description": (
            "Runs the experiments of the exploration sheet (assignment/exploration.md) "
            "with YOUR functions from mnist_dense.py and saves a results table and plots."
        ),
        "cli.epilog": "Experiments (one per exercise of the sheet):\n{experiments}",
        "cli.quick": "quick mode: {train} training images, {test} test images and few epochs (a few minutes)",
        "cli.only": "run only this experiment (repeatable); the table's other rows are kept",
        "cli.submission": "folder holding mnist_dense.py (default: assignment)",
        "cli.out": "results folder (default: exploration_results inside the submission folder, assignment/exploration_results)",
        "cli.seed": "random seed, set before each training (default: {seed})",
        "cli.lang": "language of the messages, the table and the plots (default: es)",
        "cli.train_size": "use only the first N training images",
        "cli.test_size": "use only the first N test images",
        "cli.list": "list the experiments and exit",
        "run.header": "MNIST exploration · {mode} · seed {seed}",
        "run.mode.quick": "quick mode",
        "run.mode.full": "full mode",
        "table.mode.quick": "Quick",
        "table.mode.full": "Full",
        "run.data": "Data: {train} training images, {test} test images · {epochs} epochs by default",
        "run.submission": "Functions from: {path}",
        "run.loading": "Loading TensorFlow and the data with your load_data()...",
        "run.count": "{runs} rows, {trainings} trainings. Results in {out}",
        "run.ok": "accuracy {accuracy}  loss {loss}  {seconds:6.1f} s",
        "run.reused": "reused (same training as {experiment} · {setting})",
        "run.error": "{error}",
        "run.eta": "~{eta} left",
        "run.done": "Done in {elapsed}.",
        "run.plot_failed": "Could not draw {file}: {error}",
        "run.written": "Results table: {csv} and {md}",
        "run.map": "Where to look in {out} for each exercise of assignment/exploration.md:",
        "run.map.line": "  Exercise {number:>2} ({experiment}): {files}",
        "run.map.table": "rows “{experiment}” of results.md",
        "run.import_failed": "Could not import {path}: {error}",
        "run.interrupted": "Interrupted: the table holds only the finished rows.",
        "table.title": "Exploration results",
        "table.mode": "{mode} mode · {train} training images, {test} test images · seed {seed}.",
        "table.merged": "Rows of experiments not run this time come from earlier runs.",
        "table.help": "Each experiment belongs to one exercise of `assignment/exploration.md` (its id appears in the exercise).",
        "col.experiment": "Experiment",
        "col.setting": "Setting",
        "col.test_accuracy": "Test accuracy",
        "col.final_loss": "Final loss (training)",
        "col.train_time_s": "Train time (s)",
        "col.note": "Note",
        "setting.units": "{units} units",
        "setting.activation": "{activation} activation",
        "setting.no_flatten": "without Flatten (runner's model)",
        "setting.optimizer": "{optimizer} optimizer",
        "setting.epochs": "{epochs} epochs",
        "setting.epoch": "1 epoch",
        "setting.layers": "hidden layers {layers}",
        "setting.raw_pixels": "pixels 0-255 (not normalized)",
        "setting.normalized": "pixels 0-1 (normalized, reference)",
        "setting.output_units": "{units} output units",
        "setting.baseline": "reference: 128 units, relu, adam",
        "setting.batch_size": "batch of {batch_size}",
        "setting.sample": "test image {index} (digit {label})",
        "setting.doubtful": "test image {index} (digit {label}, the most doubtful)",
        "note.error": "Error in {stage}: {error}",
        "note.missing_function": "{module}.py does not define the function {name}()",
        "note.not_a_model": "returned {type}, not a Keras model",
        "note.params": "parameters: {params}",
        "note.epoch_time": "{seconds:.2f} s per epoch",
        "note.val_accuracy": "validation accuracy per epoch: {values}",
        "note.losses": "loss per epoch: {values}",
        "note.val_losses": "loss per epoch: {loss}; val_loss per epoch: {val_loss}",
        "note.best_epoch": "lowest val_loss at epoch {epoch}",
        "note.output_shape": "model output shape: {shape}",
        "note.built_by_runner": "model built by the runner (no Flatten), trained with your compile_model and train_model",
        "note.batch_by_runner": "the runner sets batch_size={batch_size} in model.fit (train_model has no such parameter)",
        "note.nan_loss": "the loss is NaN: training did not work",
        "note.output_extra": "mean probability of units {units} (no image has those labels): {value}",
        "note.probabilities": "probabilities: {values}; sum {total}; predicted {predicted} (second: {second} at {second_p})",
        "note.unseen": "accuracy on the training images: {train}; on the test images: {test}; gap: {gap} points",
        "note.misclassified": "{wrong} of {total} test images misclassified ({percent}); gallery: {file}",
        "note.confusion": "most frequent confusions (true→predicted): {pairs}; matrix: {file}",
        "note.no_confusion": "no image misclassified; matrix: {file}",
        "note.same_training": "same training as the reference model",
        "plot.hidden_units.title": "Test accuracy by hidden layer units",
        "plot.hidden_units.x": "hidden layer units",
        "plot.accuracy": "test accuracy",
        "plot.params": "{params} parameters",
        "plot.curves.activation": "Training curves by activation function",
        "plot.curves.optimizer": "Training curves by optimizer",
        "plot.curves.epochs": "Training curves by number of epochs",
        "plot.loss": "Loss",
        "plot.acc": "Accuracy",
        "plot.epoch": "epoch",
        "plot.train": "training",
        "plot.val": "validation",
        "plot.confusion.title": "Confusion matrix (test images)",
        "plot.confusion.true": "true digit",
        "plot.confusion.pred": "predicted digit",
        "plot.misclassified.title": "Misclassified test digits ({shown} of {wrong})",
        "plot.misclassified.item": "true {true} · pred. {pred}",
        "plot.probabilities.title": "Probabilities of the prediction",
        "plot.probabilities.item": "image {index}: digit {label}",
        "plot.probabilities.y": "probability",
        "plot.digit": "digit",
        "plot.nothing": "no data: every training failed",
    },
}


def t(lang: str, key: str, **params: Any) -> str:
    return MESSAGES[lang][key].format(**params)


class Text:
    """``t`` bound to one language."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; use one of {LANGUAGES}")
        self.lang = lang

    def __call__(self, key: str, **params: Any) -> str:
        return t(self.lang, key, **params)


def number(value: float | None, digits: int = 4) -> str:
    """A decimal number with a point in both languages, as Keras prints it."""
    return "—" if value is None else f"{value:.{digits}f}"
