import os, time, boto3
from tests.media_factory import make_video, make_audio

def test_a(api, tmp_path):
    t=time.time()
    s, b, h = api("POST", "/api/users", user="u1", body={"handle": "@Alice", "displayName": "A", "isArtist": True})
    print(s, b, h)
    s, b, h = api("POST", "/api/tracks", user="u1", body={"title": "T", "audioContentType": "audio/mpeg"})
    print(s, b)
    tid = b["track"]["id"]
    p = make_audio(tmp_path/"a.mp3", seconds=2)
    boto3.client("s3").put_object(Bucket=os.environ["MEDIA_BUCKET"], Key=b["audioUpload"]["key"], Body=p.read_bytes(), ContentType="audio/mpeg")
    print(api("GET", f"/api/tracks/{tid}"))
    s, b, h = api("POST", f"/api/tracks/{tid}/visuals", user="u1", body={"contentType": "video/mp4", "durationSec": 99})
    print(s, b)
    t1=time.time()
    v = make_video(tmp_path/"v.mp4", seconds=0.5, width=64, height=112, fps=8)
    t2=time.time()
    boto3.client("s3").put_object(Bucket=os.environ["MEDIA_BUCKET"], Key=b["upload"]["key"], Body=v.read_bytes(), ContentType="video/mp4")
    t3=time.time()
    print("make", t2-t1, "probe", t3-t2)
    print(api("GET", f"/api/visuals/{b['visual']['id']}"))
    print(api("POST", "/api/users", raw_body="{bad"))
    print(api("POST", "/api/users", user="u1", raw_body="{bad"))
    print(api("POST", "/api/users", user="u1", body={"handle": "x", "displayName": "A", "zzz": 1}))
    print(api("GET", "/api/nope"))
    print("total", time.time()-t)

def test_b(api):
    t=time.time()
    print(api("GET", "/api/users/me", user="u2"))
    print(time.time()-t)
