#!/usr/bin/env python3
"""An IoT device on one MQTT-over-TLS connection (python3-paho-mqtt): it publishes a ~150-byte reading
at random times (QoS 1, each acknowledged by the broker) and is subscribed to its configuration topic,
which the back end (`--push`) republishes every 30-60 s. One flow with server pushes and random,
one-size, answered client messages: as close to a miner's shape as ordinary traffic comes.

    mqtt_device.py device --host ADDR --port P --cafile C --seconds S
    mqtt_device.py push   --host ADDR --port P --cafile C --seconds S
"""
import argparse, json, random, ssl, time
import paho.mqtt.client as mqtt


def connect(a, name):
    c = mqtt.Client(client_id=name)
    c.tls_set(ca_certs=a.cafile, cert_reqs=ssl.CERT_REQUIRED)
    c.tls_insecure_set(True)
    c.connect(a.host, a.port, keepalive=60)
    c.loop_start()
    return c


def device(a):
    c = connect(a, "device-42")
    c.subscribe("device/42/config", qos=1)
    end = time.time() + a.seconds
    n = 0
    while time.time() < end:
        time.sleep(random.expovariate(1 / 20))
        n += 1
        reading = {"device": 42, "seq": n, "t": round(time.time(), 3), "temp": round(random.uniform(18, 26), 2),
                   "hum": round(random.uniform(30, 60), 1), "co2": random.randint(400, 1200), "fw": "2.4.1", "ok": True}
        c.publish("device/42/telemetry", json.dumps(reading), qos=1)
    c.disconnect()
    c.loop_stop()


def push(a):
    c = connect(a, "backend")
    end = time.time() + a.seconds
    while time.time() < end:
        time.sleep(random.uniform(30, 60))
        config = {"interval": random.choice([10, 20, 30]), "thresholds": {"temp": [16, 28], "hum": [25, 65], "co2": 1500},
                  "ntp": "pool.ntp.example.org", "ota": {"channel": "stable", "check": random.randint(0, 10**9)}, "pad": "c" * 120}
        c.publish("device/42/config", json.dumps(config), qos=1)
    c.disconnect()
    c.loop_stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["device", "push"])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--seconds", type=float, default=600)
    a = p.parse_args()
    device(a) if a.role == "device" else push(a)
